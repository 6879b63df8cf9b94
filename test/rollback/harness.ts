import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createExec, type Exec } from '../../src/rollback/exec.js';
import type { ProcedureName } from '../../src/rollback/command.js';
import { planHash } from '../../src/rollback/hash.js';
import { planProcedure } from '../../src/rollback/procedures/index.js';
import { runRequest, type RunOutcome } from '../../src/rollback/runner.js';
import type { Deps, Json, Plan } from '../../src/rollback/types.js';
import { silentNotifier, type Notifier } from '../../src/requests/notifier.js';
import { startFakeServices, type FakeServices } from '../../src/sandbox/fakeServices.js';
import { Store, type RequestRow, type StepRunRow } from '../../src/store/store.js';
import { createTestEnv, memoryLogger, ROOT, type TestEnv } from '../support/env.js';

export { ROOT };

/**
 * One procedure test's world: its own marketbel database and Redis (createTestEnv), its own fake
 * services, and its own SANDBOX_STATE for the docker/kubectl stand-ins. The stand-ins read
 * SANDBOX_STATE from their environment, so the exec wrapper adds it to every child it starts.
 */
export interface Harness {
  readonly env: TestEnv;
  readonly services: FakeServices;
  readonly deps: Deps;
  readonly store: Store;
  readonly statePath: string;
  readonly progress: string[];
  /** Every argv the procedures ran, in order. */
  readonly argvs: string[][];
  /** Plans, stores, approves (as a second person would) and runs the request to its end. */
  run(procedure: ProcedureName, args?: { [k: string]: Json }, between?: (plan: Plan) => Promise<void>): Promise<{ outcome: RunOutcome; req: RequestRow; steps: ReadonlyMap<number, StepRunRow>; plan: Plan; ms: number }>;
  plan(procedure: ProcedureName, args?: { [k: string]: Json }): Promise<Plan>;
  sandbox(): Record<string, unknown>;
  setSandbox(patch: Record<string, unknown>): Promise<void>;
  calls(): Array<{ cmd: string; argv: string[]; env: Record<string, string> }>;
  close(): Promise<void>;
}

export async function createHarness(o: { file?: Record<string, unknown>; exec?: (base: Exec) => Exec } = {}): Promise<Harness> {
  const env = await createTestEnv();
  // A connection the database drop ends while the pool closes is expected, not a failure.
  env.db.on('error', () => undefined);
  const services = await startFakeServices();
  const scratch = mkdtempSync(path.join(tmpdir(), 'mlrb-sandbox-'));
  const statePath = path.join(scratch, 'state.json');
  const targets = (o.file?.targets ?? {}) as { compose?: object };
  const file = {
    steps: { timeoutSeconds: 2 },
    ...o.file,
    // Partial target sections keep the sandbox compose file that createTestEnv configures.
    ...(targets.compose ? { targets: { ...targets, compose: { file: path.join(ROOT, 'sandbox/compose.yml'), ...targets.compose } } } : {}),
  };
  const config = env.config({}, file);
  const base = createExec(config.file.targets.binPath);
  const argvs: string[][] = [];
  const withState: Exec = (argv, opts) => {
    argvs.push([...argv]);
    return base(argv, { ...opts, env: { ...opts.env, SANDBOX_STATE: statePath } });
  };
  const { log } = memoryLogger('warn');
  const store = await Store.open(env.databaseUrl, 'ml_rollback', log);
  const deps: Deps = {
    db: env.db,
    redis: env.redis,
    exec: o.exec ? o.exec(withState) : withState,
    config: config.file,
    serviceUrls: services.urls,
    databaseUrl: env.databaseUrl,
    fetch: globalThis.fetch,
    now: () => new Date(),
    log,
    backups: () => store.backups(),
  };
  const progress: string[] = [];
  const notifier: Notifier = { ...silentNotifier, progress: async (_req, _steps, line) => { if (line) progress.push(line); } };
  // Make the stand-ins write their default state now, so tests can patch it.
  await deps.exec(['kubectl', 'version'], { timeoutMs: 10_000 });
  return {
    env, services, deps, store, statePath, progress, argvs,
    plan: (procedure, args = {}) => planProcedure(deps, procedure, args),
    async run(procedure, args = {}, between) {
      const plan = await planProcedure(deps, procedure, args);
      const hash = planHash(plan);
      const req = await store.createRequest({
        procedure, command: procedure, args: plan.args, plan, planHash: hash, state: 'awaiting_approval', requester: 'U0REQUEST',
        channelId: 'C0TEST', approvalsNeeded: 1, expiresAt: new Date(Date.now() + 600_000),
      });
      await store.transition(req.id, ['awaiting_approval'], 'approved', { approved_hash: hash, run_no: 1 });
      if (between) await between(plan);
      const started = performance.now();
      const outcome = await runRequest(req.id, { store, deps, notifier, worker: 'test-worker', log, cancelPollMs: 100 });
      const ms = Math.round(performance.now() - started);
      return { outcome, req: (await store.getRequest(req.id))!, steps: await store.latestSteps(req.id), plan, ms };
    },
    sandbox: () => JSON.parse(readFileSync(statePath, 'utf8')) as Record<string, unknown>,
    async setSandbox(patch) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(statePath, JSON.stringify({ ...(JSON.parse(readFileSync(statePath, 'utf8')) as object), ...patch }));
    },
    calls: () => {
      try {
        return readFileSync(`${statePath}.calls.jsonl`, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { cmd: string; argv: string[]; env: Record<string, string> });
      } catch {
        return [];
      }
    },
    async close() {
      await store.close();
      await services.close();
      await env.cleanup();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** Step runs in plan order, as `id state summary` lines, for readable failure messages. */
export const stepLines = (plan: Plan, steps: ReadonlyMap<number, StepRunRow>) =>
  plan.steps.map((s, i) => `${s.id} ${steps.get(i)?.state ?? '-'} ${steps.get(i)?.summary ?? ''}`);

export async function count(env: TestEnv, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await env.db.query<{ n: string }>(`SELECT count(*) AS n FROM (${sql}) q`, params);
  return Number(rows[0]!.n);
}
