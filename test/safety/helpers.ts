import { spawn, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { silentNotifier, type Notifier } from '../../src/requests/notifier.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime.js';
import type { TestEnv } from '../support/env.js';
import { memoryLogger } from '../support/env.js';
import { EFFECTS_DDL, registerTestExecutors } from './fixtures/executors.js';

export const REQUESTER = 'U0SAFEREQ1';
export const APPROVER = 'U0SAFEAPP1';
export const APPROVER2 = 'U0SAFEAPP2';
const FIXTURE = path.join(import.meta.dirname, 'fixtures/worker.ts');

/** Polls a condition (a database state, mostly) until it holds; the wait is on the condition, not a guess. */
export async function until<T>(fn: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface WorkerChild {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The name the worker records in step_runs.worker. */
  readonly name: string;
  readonly stderr: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns the worker fixture as a real child process and resolves when it takes jobs. */
export async function spawnWorker(env: Record<string, string>): Promise<WorkerChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (l) => {
      if (l.startsWith('ready')) resolve(l.slice(6));
    });
    void exited.then((e) => reject(new Error(`worker exited before ready (${e.code ?? e.signal}): ${stderr.slice(-5).join('\n')}`)));
  });
  return { child, pid: child.pid!, name: ready || `${hostname()}:${child.pid}`, stderr, exited };
}

/** The test's own side of the system: store, service and queue, no worker (the children are the workers). */
export async function controlRuntime(env: TestEnv, o: Partial<RuntimeOptions> & { file?: unknown; extraEnv?: Record<string, string>; notifier?: Notifier } = {}): Promise<{ rt: Runtime; logs: string[] }> {
  registerTestExecutors();
  const { log, lines } = memoryLogger('info');
  const rt = await createRuntime(env.config(o.extraEnv ?? {}, o.file), log, { notifier: () => o.notifier ?? silentNotifier, runWorker: false, ...o });
  await env.db.query(EFFECTS_DDL);
  return { rt, logs: lines };
}

export async function effectsOf(env: TestEnv, requestId: string): Promise<Map<string, number>> {
  const { rows } = await env.db.query<{ step_id: string; n: string }>('SELECT step_id, count(*) AS n FROM safety_effects WHERE request_id = $1 GROUP BY step_id', [requestId]);
  return new Map(rows.map((r) => [r.step_id, Number(r.n)]));
}
