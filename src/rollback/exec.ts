import { execa } from 'execa';
import { AppError, ErrorCode } from '../errors.js';
import { redact } from '../redact.js';

export interface ExecOptions {
  readonly cwd?: string;
  /** Credentials go here, never into argv. */
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly input?: string;
  /** Grace between SIGTERM and SIGKILL of the process group. */
  readonly killGraceMs?: number;
  /** Told the process group id as soon as the child exists (to end it if this process dies). */
  readonly onSpawn?: (pgid: number) => void;
}

export interface ExecResult {
  readonly argv: readonly string[];
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Interleaved, redacted, last few KB: what a person sees. */
  readonly tail: string;
  readonly durationMs: number;
}

export type Exec = (argv: readonly string[], opts: ExecOptions) => Promise<ExecResult>;

const TAIL_BYTES = 4000;
export const tailOf = (text: string, max = TAIL_BYTES): string =>
  redact(text.length > max ? `…${text.slice(text.length - max)}` : text);

/**
 * Runs one child process from an argv array (never a shell string). The child leads its own process
 * group, so a timeout or cancel ends it and everything it started, not just the direct child.
 * A non-zero exit is returned, not thrown: callers decide what an exit code means.
 */
export function createExec(extraPath: readonly string[] = []): Exec {
  return async (argv, opts) => {
    const [file, ...args] = argv;
    if (!file) throw new AppError(ErrorCode.Internal, 'exec: empty argv');
    if (opts.signal?.aborted) throw new AppError(ErrorCode.Cancelled, `cancelled before starting ${file}`);
    const started = Date.now();
    const pathEnv = [...extraPath, process.env.PATH ?? ''].filter(Boolean).join(':');
    const child = execa(file, args, {
      cwd: opts.cwd,
      env: { ...opts.env, PATH: opts.env?.PATH ?? pathEnv },
      extendEnv: true,
      reject: false,
      detached: true,
      all: true,
      stripFinalNewline: true,
      ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
    });
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    let ended: 'timeout' | 'cancelled' | undefined;
    const killGroup = (why: 'timeout' | 'cancelled') => {
      if (ended || child.pid === undefined) return;
      ended = why;
      signalGroup(child.pid, 'SIGTERM');
      const hard = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), opts.killGraceMs ?? 3000);
      hard.unref();
      void child.finally(() => {
        // The leader may exit on SIGTERM while a child ignoring it lives on: finish the group.
        signalGroup(child.pid!, 'SIGKILL');
        clearTimeout(hard);
      });
    };
    const timer = setTimeout(() => killGroup('timeout'), opts.timeoutMs);
    const onAbort = () => killGroup('cancelled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const r = await child;
      const durationMs = Date.now() - started;
      const tail = tailOf(String(r.all ?? ''));
      if (ended === 'timeout') {
        throw new AppError(ErrorCode.Timeout, `${file} timed out after ${Math.round(opts.timeoutMs / 1000)} s and was stopped`, { argv: argv.map(redact), tail });
      }
      if (ended === 'cancelled') {
        throw new AppError(ErrorCode.Cancelled, `${file} was stopped by cancel`, { argv: argv.map(redact), tail });
      }
      if (r.failed && r.exitCode === undefined) {
        throw new AppError(ErrorCode.StepFailed, redact(`could not run ${file}: ${r.shortMessage ?? r.message}`), { argv: argv.map(redact) });
      }
      return { argv, exitCode: r.exitCode ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), tail, durationMs };
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  };
}

export function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: the group is already gone.
  }
}
