import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/runtime.js';
import type { RequestRow } from '../../src/store/store.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { createPlanned, effectStep, GATE_KEY, testPlan } from './fixtures/executors.js';
import { APPROVER, controlRuntime, effectsOf, REQUESTER, spawnWorker, until, type WorkerChild } from './helpers.js';

const KILLS = Number(process.env.SAFETY_KILLS ?? 10);

describe('exactly once through crashes, competition and shutdown (real worker processes)', () => {
  let env: TestEnv;
  let rt: Runtime;
  const children: WorkerChild[] = [];
  beforeEach(async () => {
    env = await createTestEnv({ seedRedis: false });
    ({ rt } = await controlRuntime(env));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) {
      c.child.kill('SIGKILL');
      await c.exited;
    }
    await rt.close();
    await env.cleanup();
  });

  const spawn = async (extra: Record<string, string> = {}) => {
    const c = await spawnWorker(env.env(extra));
    children.push(c);
    return c;
  };
  const kill = async (c: WorkerChild, sig: NodeJS.Signals = 'SIGKILL') => {
    c.child.kill(sig);
    const e = await c.exited;
    children.splice(children.indexOf(c), 1);
    return e;
  };
  const approved = async (plan: ReturnType<typeof testPlan>): Promise<RequestRow> => {
    const req = await createPlanned(rt.store, plan, REQUESTER);
    const r = await rt.service.act('approve', req.id, APPROVER);
    expect(r.ok).toBe(true);
    return req;
  };

  it(`survives ${KILLS} SIGKILLs at random points: no completed step repeated, no approved request lost`, async () => {
    // Requests of five steps, idempotent and not, each step ~150–450 ms; more are approved while
    // the kills go on, so there is always work to kill in the middle of.
    const ids: string[] = [];
    const idempotentOf = new Map<string, boolean>();
    const approveAnother = async () => {
      const steps = Array.from({ length: 5 }, (_, i) => effectStep(i, { ms: 150 + Math.floor(Math.random() * 300), idempotent: i % 2 === 0 }));
      steps.forEach((s) => idempotentOf.set(s.id, s.idempotent));
      ids.push((await approved(testPlan(steps, `crash ${ids.length}`))).id);
    };
    for (let r = 0; r < 3; r++) await approveAnother();
    const human = { retries: 0, skips: 0 };
    const resolveInterrupted = async () => {
      const { rows } = await rt.store.pool.query<{ id: string }>(`SELECT id FROM ml_rollback.requests WHERE state = 'interrupted'`);
      for (const { id } of rows) {
        const req = await rt.store.getRequest(id);
        if (req?.state !== 'interrupted') continue;
        // What the person asked does: look whether the step's work happened, then Skip or Retry it.
        const step = req.error!.step!;
        const did = (await effectsOf(env, id)).get(req.plan.steps[step]!.id) ?? 0;
        const r = await rt.service.act(did > 0 ? 'skip' : 'retry', id, APPROVER, { fromStep: step });
        expect(r.ok, r.text).toBe(true);
        if (did > 0) human.skips++;
        else human.retries++;
      }
    };
    const allDone = async () => (await Promise.all(ids.map((id) => rt.store.getRequest(id)))).every((r) => r?.state === 'succeeded');

    // Two workers at a time; a replacement starts while the survivor takes over, as in production.
    const alive: WorkerChild[] = [];
    let starting: Promise<void> | undefined;
    const replenish = () => {
      starting ??= (async () => {
        while (alive.length < 2) alive.push(await spawn());
      })().finally(() => (starting = undefined));
      return starting;
    };
    await replenish();
    let kills = 0;
    let midStep = 0;
    let lastKill = Date.now();
    const gaps: number[] = [];
    while (kills < KILLS) {
      void replenish();
      const open = (await Promise.all(ids.map((id) => rt.store.getRequest(id)))).filter((r) => r?.state !== 'succeeded').length;
      if (open < 2) await approveAnother();
      await resolveInterrupted();
      const running = await until(
        async () => {
          await resolveInterrupted();
          const { rows } = await rt.store.pool.query<{ worker: string }>(
            `SELECT worker FROM ml_rollback.step_runs WHERE state = 'running' AND worker = ANY($1) ORDER BY id DESC LIMIT 1`,
            [alive.map((c) => c.name)],
          );
          return rows[0]?.worker;
        },
        'a running step',
        30_000,
        25,
      );
      gaps.push(Date.now() - lastKill);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 350)));
      const victim = alive.find((c) => c.name === running)!;
      await kill(victim);
      alive.splice(alive.indexOf(victim), 1);
      kills++;
      lastKill = Date.now();
      const { rows } = await rt.store.pool.query(`SELECT 1 FROM ml_rollback.step_runs WHERE state = 'running' AND worker = $1`, [victim.name]);
      if (rows.length) midStep++;
    }
    await starting;
    if (alive.length === 0) alive.push(await spawn());
    await until(async () => (await resolveInterrupted(), await allDone()), 'every request to succeed', 60_000, 50);

    // Count: a step that succeeded is never started again; a non-idempotent step's work happens once.
    let repeatedAfterSuccess = 0;
    let succeededTwice = 0;
    let nonIdempotentTwice = 0;
    let idempotentReruns = 0;
    for (const id of ids) {
      const runs = await rt.store.allStepRuns(id);
      for (let i = 0; i < 5; i++) {
        const mine = runs.filter((r) => r.stepIndex === i);
        const firstOk = mine.find((r) => r.state === 'succeeded' || r.state === 'skipped');
        expect(firstOk, `${id} step ${i + 1} completed`).toBeDefined();
        repeatedAfterSuccess += mine.filter((r) => r.id > firstOk!.id).length;
        succeededTwice += Math.max(0, mine.filter((r) => r.state === 'succeeded').length - 1);
      }
      for (const [stepId, n] of await effectsOf(env, id)) {
        if (idempotentOf.get(stepId)) idempotentReruns += n - 1;
        else nonIdempotentTwice += Math.max(0, n - 1);
      }
      const effects = await effectsOf(env, id);
      for (let i = 0; i < 5; i++) expect(effects.get(`effect-${i + 1}`) ?? 0, `${id} effect ${i + 1}`).toBeGreaterThanOrEqual(1);
    }
    const lost = (await Promise.all(ids.map((id) => rt.store.getRequest(id)))).filter((r) => r?.state !== 'succeeded').length;
    console.info(
      `[safety] requests=${ids.length}; SIGKILLs=${kills} (mid-step ${midStep}); completed steps repeated=${repeatedAfterSuccess}; steps succeeded twice=${succeededTwice}; ` +
        `non-idempotent effects doubled=${nonIdempotentTwice}; idempotent re-runs=${idempotentReruns}; human retries=${human.retries} skips=${human.skips}; approved requests lost=${lost}; ms from a kill to the next running step: ${gaps.join(',')}`,
    );
    expect(kills).toBe(KILLS);
    expect(repeatedAfterSuccess).toBe(0);
    expect(succeededTwice).toBe(0);
    expect(nonIdempotentTwice).toBe(0);
    expect(lost).toBe(0);
    for (const c of alive.splice(0)) expect((await kill(c, 'SIGTERM')).code).toBe(0);
  }, 150_000);

  it('SIGKILL during a child process: the next worker ends the orphaned process group before deciding on the step', async () => {
    const marker = `7${Math.floor(Math.random() * 1e6)}.5`;
    const sleeps = () => execFileSync('ps', ['-eo', 'pid,pgid,args'], { encoding: 'utf8' }).split('\n').filter((l) => /^\s*\d+\s+\d+\s+sleep /.test(l) && l.includes(`sleep ${marker}`));
    const shell = { id: 'long-shell', kind: 'test-shell', title: 'A shell and its child', risk: 'reversible' as const, idempotent: false, timeoutMs: 600_000, params: { script: `sleep ${marker} & sleep ${marker}` }, shows: ['sh -c …'] };
    const req = await approved(testPlan([shell, effectStep(1)]));
    const w = await spawn();
    await until(async () => sleeps().length === 2 && ((await rt.store.latestSteps(req.id)).get(0)?.children?.length ?? 0) > 0, 'the shell and its child, recorded');
    await kill(w);
    // The worker is gone; its children are not (they lead their own process group).
    expect(sleeps()).toHaveLength(2);
    await spawn();
    await until(async () => (await rt.store.getRequest(req.id))?.state === 'interrupted', 'interrupted', 60_000);
    await until(async () => sleeps().length === 0, 'orphans ended', 5_000);
    expect((await rt.store.auditTrail({ requestId: req.id })).map((a) => a.action)).toContain('orphans-ended');
    expect((await effectsOf(env, req.id)).size).toBe(0);
  }, 90_000);

  it('two worker processes competing run one rollback at a time', async () => {
    // Both workers idle and waiting before the jobs arrive, so each takes one.
    const [w1, w2] = await Promise.all([spawn(), spawn()]);
    const a = await approved(testPlan([effectStep(0, { ms: 400 }), effectStep(1, { ms: 400 })], 'A'));
    const b = await approved(testPlan([effectStep(0, { ms: 400 }), effectStep(1, { ms: 400 })], 'B'));
    await until(async () => (await rt.store.getRequest(a.id))?.state === 'succeeded' && (await rt.store.getRequest(b.id))?.state === 'succeeded', 'both runs', 30_000);
    const span = async (id: string) => {
      const runs = await rt.store.allStepRuns(id);
      return { from: Math.min(...runs.map((r) => +r.startedAt)), to: Math.max(...runs.map((r) => +r.finishedAt!)), workers: new Set(runs.map((r) => r.worker)) };
    };
    const [sa, sb] = [await span(a.id), await span(b.id)];
    expect(sa.to <= sb.from || sb.to <= sa.from).toBe(true);
    // Both processes took part (each took one job), yet the runs never overlapped.
    expect(new Set([...sa.workers, ...sb.workers]).size).toBe(2);
    expect([...(await effectsOf(env, a.id)).values(), ...(await effectsOf(env, b.id)).values()]).toEqual([1, 1, 1, 1]);
    for (const w of [w1!, w2!]) expect((await kill(w, 'SIGTERM')).code).toBe(0);
  }, 60_000);

  it('SIGTERM lets the running step finish, starts no further step, exits 0; the next worker resumes', async () => {
    const gate = new pg.Client({ connectionString: env.databaseUrl });
    await gate.connect();
    try {
      await gate.query('SELECT pg_advisory_lock($1)', [GATE_KEY]);
      const req = await approved(testPlan([effectStep(0, { gate: true }), effectStep(1, { idempotent: false })]));
      const w = await spawn();
      await until(async () => (await rt.store.latestSteps(req.id)).get(0)?.state === 'running', 'step 1 running');
      w.child.kill('SIGTERM');
      const closed = new Promise<void>((resolve) => w.child.stdout!.on('data', (d: Buffer) => d.toString().includes('closed') && resolve()));
      // The worker is draining: it may not exit while step 1 is still held at the gate.
      await until(async () => (await rt.store.pool.query(`SELECT 1 FROM ml_rollback.audit WHERE action = 'run-paused'`)).rowCount === 0 && w.child.exitCode === null, 'draining');
      await gate.query('SELECT pg_advisory_unlock($1)', [GATE_KEY]);
      expect((await w.exited).code).toBe(0);
      await closed;
      children.splice(children.indexOf(w), 1);
      const steps = await rt.store.latestSteps(req.id);
      expect(steps.get(0)?.state).toBe('succeeded');
      expect(steps.get(1)).toBeUndefined();
      expect((await rt.store.getRequest(req.id))?.state).toBe('running');
      expect((await rt.store.auditTrail({ requestId: req.id })).map((a) => a.action)).toContain('run-paused');

      await spawn();
      await until(async () => (await rt.store.getRequest(req.id))?.state === 'succeeded', 'resumed run', 20_000);
      expect(Object.fromEntries(await effectsOf(env, req.id))).toEqual({ 'effect-1': 1, 'effect-2': 1 });
    } finally {
      await gate.end();
    }
  }, 60_000);

  it('SIGTERM past the grace period ends the running step, marks it interrupted and asks a person', async () => {
    const gate = new pg.Client({ connectionString: env.databaseUrl });
    await gate.connect();
    try {
      await gate.query('SELECT pg_advisory_lock($1)', [GATE_KEY]);
      const req = await approved(testPlan([effectStep(0, { gate: true, idempotent: false }), effectStep(1)]));
      const w = await spawn({ SHUTDOWN_GRACE_MS: '500' });
      await until(async () => (await rt.store.latestSteps(req.id)).get(0)?.state === 'running', 'step 1 running');
      const t0 = Date.now();
      w.child.kill('SIGTERM');
      expect((await w.exited).code).toBe(0);
      children.splice(children.indexOf(w), 1);
      expect(Date.now() - t0).toBeLessThan(10_000);
      const after = await rt.store.getRequest(req.id);
      expect(after?.state).toBe('interrupted');
      expect(after?.error?.step).toBe(0);
      expect((await rt.store.latestSteps(req.id)).get(0)?.state).toBe('interrupted');
      expect((await effectsOf(env, req.id)).size).toBe(0);
    } finally {
      await gate.end();
    }
  }, 60_000);
});
