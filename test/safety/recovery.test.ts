import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { Maintenance } from '../../src/jobs/maintenance.js';
import { jobIdFor } from '../../src/jobs/queue.js';
import { lockKey, TargetLock } from '../../src/jobs/lock.js';
import { silentNotifier } from '../../src/requests/notifier.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { createTestEnv, leaseRedisDb, memoryLogger, type TestEnv } from '../support/env.js';
import { createPlanned, effectStep, GATE_KEY, testPlan } from './fixtures/executors.js';
import { APPROVER, controlRuntime, effectsOf, REQUESTER, until } from './helpers.js';

describe('recovery: Redis loses its data, a wedged lock is force-released, Cancel ends a process group', () => {
  let env: TestEnv;
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    await env.cleanup();
  });

  const workerRuntime = async (extraEnv: Record<string, string> = {}, file?: unknown): Promise<Runtime> => {
    const rt = await createRuntime(env.config(extraEnv, file), memoryLogger().log, {
      notifier: () => silentNotifier, runWorker: true, cancelPollMs: 100, maintenanceIntervalMs: 60_000,
      worker: { lockDurationMs: 5000, stalledIntervalMs: 2000, shutdownGraceMs: 2000 },
    });
    closers.push(() => rt.close());
    return rt;
  };

  it('FLUSHDB of the queue\'s Redis while a request is approved: the sweep re-queues it from Postgres and it runs once', async () => {
    env = await createTestEnv({ seedRedis: false });
    const queueDb = await leaseRedisDb();
    closers.push(() => queueDb.release());
    const { rt } = await controlRuntime(env, { extraEnv: { REDIS_URL: queueDb.url } });
    closers.push(() => rt.close());
    const req = await createPlanned(rt.store, testPlan([effectStep(0), effectStep(1, { idempotent: false })]), REQUESTER);
    expect((await rt.service.act('approve', req.id, APPROVER)).ok).toBe(true);
    expect(await rt.queue.queue.getJob(jobIdFor(req.id, 1))).toBeDefined();

    const r = new Redis(queueDb.url);
    await r.flushdb();
    await r.quit();
    expect(await rt.queue.queue.getJob(jobIdFor(req.id, 1))).toBeUndefined();

    const sweep = new Maintenance({ store: rt.store, queue: rt.queue, notifier: silentNotifier, log: memoryLogger().log });
    expect((await sweep.tick()).requeued).toBe(1);
    // A second sweep while the job waits adds nothing.
    await sweep.tick();
    expect(await rt.queue.queue.getJobCounts('waiting')).toMatchObject({ waiting: 1 });

    await workerRuntime({ REDIS_URL: queueDb.url });
    await until(async () => (await rt.store.getRequest(req.id))?.state === 'succeeded', 'the re-queued run');
    expect(Object.fromEntries(await effectsOf(env, req.id))).toEqual({ 'effect-1': 1, 'effect-2': 1 });
    expect((await rt.store.auditTrail({ requestId: req.id })).filter((a) => a.action === 'run-started')).toHaveLength(1);
  });

  it('unlock --reason: only an approver; ends the session holding the lock; the holder stops before its next step, audited', async () => {
    env = await createTestEnv({ seedRedis: false });
    const file = { policy: { approvers: [APPROVER] } };
    const { rt } = await controlRuntime(env, { file });
    closers.push(() => rt.close());
    const gate = new pg.Client({ connectionString: env.databaseUrl });
    await gate.connect();
    closers.push(() => gate.end());
    await gate.query('SELECT pg_advisory_lock($1)', [GATE_KEY]);
    const req = await createPlanned(rt.store, testPlan([effectStep(0, { gate: true }), effectStep(1)]), REQUESTER);
    await rt.service.act('approve', req.id, APPROVER);
    await workerRuntime({}, file);
    await until(async () => (await rt.store.latestSteps(req.id)).get(0)?.state === 'running', 'step 1 running');
    const holder = await TargetLock.holder(env.db, 'ml-analyze');
    expect(holder?.application).toMatch(/^ml-rollback lock /);

    const actor = (userId: string) => ({ userId, channelId: 'C0ML', channelName: 'ml-analyze' });
    expect((await rt.service.handle('unlock', actor(APPROVER))).text).toMatch(/--reason TEXT is required[\s\S]*Usage:/);
    expect((await rt.service.handle('unlock --reason because', actor('U0RANDOM01'))).text).toMatch(/only approvers may force-release/);
    expect(await TargetLock.holder(env.db, 'ml-analyze')).not.toBeNull();

    const r = await rt.service.handle('unlock --reason worker on host-b is wedged', actor(APPROVER));
    expect(r.ok).toBe(true);
    expect(r.text).toMatch(/force-released/);
    await until(async () => !(await TargetLock.holder(env.db, 'ml-analyze')), 'the lock to be free');
    // Free for the next worker (a session of its own: a session-level lock belongs to one connection).
    const probe = new pg.Client({ connectionString: env.databaseUrl });
    await probe.connect();
    expect((await probe.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [lockKey('ml-analyze')])).rows[0]!.ok).toBe(true);
    await probe.end();

    await gate.query('SELECT pg_advisory_unlock($1)', [GATE_KEY]);
    const stopped = await until(async () => {
      const x = await rt.store.getRequest(req.id);
      return x?.state === 'interrupted' ? x : undefined;
    }, 'the holder to stop');
    expect(stopped.error?.message).toMatch(/stopped before step 2: lost the ml-analyze lock/);
    expect(Object.fromEntries(await effectsOf(env, req.id))).toEqual({ 'effect-1': 1 });
    const audit = await rt.store.auditTrail();
    expect(audit.find((a) => a.action === 'lock-force-released')).toMatchObject({ actor: APPROVER, detail: { reason: 'worker on host-b is wedged', pid: holder!.pid } });
    expect(audit.find((a) => a.action === 'refused' && a.actor === 'U0RANDOM01')).toBeDefined();
  });

  it('Cancel during a long child process ends its whole process group within seconds; no orphan left', async () => {
    env = await createTestEnv({ seedRedis: false });
    const { rt } = await controlRuntime(env);
    closers.push(() => rt.close());
    const marker = `6${Math.floor(Math.random() * 1e6)}.5`;
    const shell = { id: 'long-shell', kind: 'test-shell', title: 'A shell and its child', risk: 'reversible' as const, idempotent: true, timeoutMs: 600_000, params: { script: `sleep ${marker} & sleep ${marker}` }, shows: ['sh -c …'] };
    const req = await createPlanned(rt.store, testPlan([shell, effectStep(1)]), REQUESTER);
    await rt.service.act('approve', req.id, APPROVER);
    await workerRuntime();
    const sleeps = () => execFileSync('ps', ['-eo', 'pid,pgid,args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`sleep ${marker}`));
    const children = () => sleeps().filter((l) => /^\s*\d+\s+\d+\s+sleep /.test(l));
    await until(async () => children().length === 2 && (await rt.store.latestSteps(req.id)).get(0)?.state === 'running', 'the shell and its child');
    const groups = new Set(sleeps().map((l) => l.trim().split(/\s+/)[1]));
    expect(groups.size).toBe(1);
    expect(groups.has(String(process.pid))).toBe(false);

    const t0 = Date.now();
    expect((await rt.service.act('cancel', req.id, APPROVER)).text).toMatch(/stopping/);
    await until(async () => (await rt.store.getRequest(req.id))?.state === 'cancelled', 'cancelled', 10_000);
    await until(async () => sleeps().length === 0, 'no sleep left in the process table', 5_000);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect((await rt.store.latestSteps(req.id)).get(0)?.state).toBe('cancelled');
    expect((await effectsOf(env, req.id)).size).toBe(0);
    expect((await rt.service.act('cancel', req.id, APPROVER)).text).toMatch(/nothing to cancel/);
  });
});
