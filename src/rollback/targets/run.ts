import { AppError, ErrorCode } from '../../errors.js';
import type { ExecResult } from '../exec.js';
import type { Deps } from '../types.js';

export interface ToolOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Runs a tool through the one exec wrapper; a non-zero exit becomes a StepFailed carrying the output tail. */
export async function runTool(deps: Pick<Deps, 'exec'>, argv: readonly string[], o: ToolOptions = {}, what = argv.slice(0, 3).join(' ')): Promise<ExecResult> {
  const r = await deps.exec(argv, { timeoutMs: o.timeoutMs ?? 60_000, ...(o.cwd ? { cwd: o.cwd } : {}), ...(o.env ? { env: o.env } : {}), ...(o.signal ? { signal: o.signal } : {}) });
  if (r.exitCode !== 0) throw new AppError(ErrorCode.StepFailed, `${what} exited ${r.exitCode}: ${lastLine(r.tail)}`, { tail: r.tail, exitCode: r.exitCode });
  return r;
}

export const lastLine = (text: string): string => text.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '(no output)';
