import { loadEnv, type EnvConfig } from './env.js';
import { loadFileConfig, type FileConfig } from './file.js';

export type { EnvConfig, FileConfig };
export interface Config extends EnvConfig {
  readonly file: FileConfig;
}

/** The only function that reads the environment (and, through it, the policy file). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = loadEnv(env);
  return Object.freeze({ ...e, file: loadFileConfig(e.configFile) });
}
