import path from 'node:path';
import { AppError, ErrorCode } from '../../errors.js';
import { lastLine } from '../targets/run.js';
import type { Executor, Json } from '../types.js';

const strings = (v: Json | undefined): string[] => (Array.isArray(v) ? v.map(String) : []);
const stringMap = (v: Json | undefined): Record<string, string> =>
  v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)])) : {};

/**
 * Runs the argv a plan shows (docker compose, kubectl rollout status): same argv, the plan's
 * non-secret environment (the image tag variable), the step's timeout and cancel signal.
 */
export const command: Executor = async (params, ctx) => {
  const argv = strings(params.argv);
  const r = await ctx.exec(argv, {
    timeoutMs: ctx.step.timeoutMs,
    signal: ctx.signal,
    env: stringMap(params.env),
    ...(typeof params.cwd === 'string' ? { cwd: params.cwd } : {}),
  });
  if (r.exitCode !== 0) {
    const manifest = /manifest for (\S+) not found/.exec(r.tail);
    if (manifest) {
      throw new AppError(ErrorCode.StepFailed, `image ${manifest[1]} does not exist in the registry (manifest unknown); check the tag (--tag) — ${String(params.notRunYet ?? 'nothing was changed by this step')}`, { tail: r.tail, exitCode: r.exitCode });
    }
    throw new AppError(ErrorCode.StepFailed, `${argv.slice(0, 3).join(' ')} exited ${r.exitCode}: ${lastLine(r.tail)}`, { tail: r.tail, exitCode: r.exitCode });
  }
  return { summary: `${argv.map((a) => (a.startsWith('/') ? path.basename(a) : a)).slice(0, 8).join(' ')} → exit 0${lastLine(r.tail) !== '(no output)' ? `: ${lastLine(r.tail)}` : ''}`, exitCode: 0, output: r.tail };
};
