import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { stringify } from 'yaml';
import { BOT_TOKEN, SIGNING_SECRET } from './bot.js';
import { ROOT, type TestEnv } from './env.js';

/** A port nobody listens on right now (the child must print nothing to tell us its own). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** The policy-and-targets file a spawned bot needs to act on this test's sandbox. */
export function writeConfigFile(env: TestEnv): string {
  const file = path.join(env.backupDir, 'ml-rollback.yml');
  writeFileSync(
    file,
    stringify({
      backups: { directory: env.backupDir },
      targets: {
        binPath: [path.join(ROOT, 'sandbox/bin')],
        alembic: { directory: path.join(ROOT, 'sandbox/python-ingestion'), command: ['/usr/bin/python3', '-m', 'alembic'], prePhase7Revision: '006' },
        compose: { file: path.join(ROOT, 'sandbox/compose.yml'), service: 'ml-analyze', tagVariable: 'ML_ANALYZE_TAG' },
      },
    }),
  );
  return file;
}

export interface ChildBot {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly output: string[];
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Resolves once the output has a line matching (already printed or future). */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<string>;
  kill(): void;
}

/** `node --import tsx src/main.ts ROLE` as its own process, against this test's env and a fake Slack. */
export async function spawnBot(env: TestEnv, slackApiUrl: string, role = 'all'): Promise<ChildBot> {
  const port = await freePort();
  const childEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    ...env.env({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slackApiUrl,
      PORT: String(port),
      ML_ROLLBACK_CONFIG: writeConfigFile(env),
      LOG_LEVEL: 'info',
    }),
  };
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', role], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    for (const l of [...listeners]) l();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return {
    proc,
    url: `http://127.0.0.1:${port}`,
    output,
    exited,
    waitForOutput: (re, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const line = output.find((l) => re.test(l));
          if (!line) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(line);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no output matching ${re} within ${timeoutMs} ms; output:\n${output.slice(-20).join('\n')}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then(() => {
          if (!listeners.has(check)) return;
          listeners.delete(check);
          clearTimeout(timer);
          reject(new Error(`the bot exited before printing ${re}; output:\n${output.slice(-20).join('\n')}`));
        });
        check();
      }),
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}
