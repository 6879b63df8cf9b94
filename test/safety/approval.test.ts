import { afterEach, describe, expect, it } from 'vitest';
import { decisionText, planBlocks } from '../../src/bot/render.js';
import type { DecisionEvent, Notifier } from '../../src/requests/notifier.js';
import { cachedGroups, Policy } from '../../src/requests/policy.js';
import { RequestService } from '../../src/requests/service.js';
import { runRequest } from '../../src/rollback/runner.js';
import { SUPPLIER_A } from '../../src/sandbox/seed.js';
import type { Runtime } from '../../src/runtime.js';
import { startTestBot, type TestBot } from '../support/bot.js';
import { createTestEnv, memoryLogger, type TestEnv } from '../support/env.js';
import { createPlanned, effectStep, testPlan } from './fixtures/executors.js';
import { APPROVER, APPROVER2, controlRuntime, effectsOf, REQUESTER } from './helpers.js';

const embeddingsOfA = async (env: TestEnv) =>
  Number((await env.db.query<{ n: string }>('SELECT count(*) AS n FROM product_embeddings pe JOIN supplier_items si ON si.id = pe.supplier_item_id WHERE si.supplier_id = $1', [SUPPLIER_A])).rows[0]!.n);

describe('clicks over signed HTTP: double, triple and concurrent approvals run once; stale and forged buttons change nothing', () => {
  let bot: TestBot;
  afterEach(async () => {
    await bot.close();
  });

  it('three clicks by one approver and three by another at once → one approval, one run', async () => {
    bot = await startTestBot();
    await bot.command(`data clear-embeddings --supplier ${SUPPLIER_A}`, { user_id: REQUESTER });
    await bot.slack.waitFor((c) => c.method === 'response_url' && String(c.body.text).startsWith('R-1 planned'));
    const clicks = await Promise.all([1, 2, 3].flatMap(() => [bot.click('rollback_approve', 'R-1', APPROVER), bot.click('rollback_approve', 'R-1', APPROVER2)]));
    expect(clicks.every((c) => c.status === 200)).toBe(true);
    expect((await bot.waitForState('R-1', ['succeeded', 'failed'])).state).toBe('succeeded');
    const store = bot.runtime.store;
    const audit = await store.auditTrail({ requestId: 'R-1' });
    expect(audit.filter((a) => a.action === 'approved')).toHaveLength(1);
    expect(audit.filter((a) => a.action === 'run-started')).toHaveLength(1);
    const runs = await store.allStepRuns('R-1');
    expect(runs.map((r) => `${r.stepIndex}:${r.attempt}:${r.state}`)).toEqual(['0:1:succeeded', '1:1:succeeded', '2:1:succeeded']);
    expect(await embeddingsOfA(bot.env)).toBe(0);
    // The five losing clicks were answered, and remembered.
    expect(audit.filter((a) => a.action === 'button-refused').length).toBe(5);

    // A stale button on a finished request says so and changes nothing.
    await bot.click('rollback_cancel', 'R-1', APPROVER);
    const stale = await bot.slack.waitFor((c) => c.method === 'response_url' && /R-1 has already succeeded; nothing to cancel/.test(String(c.body.text)));
    expect(stale).toBeDefined();
    await bot.click('rollback_retry', 'R-1|0', APPROVER);
    await bot.slack.waitFor((c) => c.method === 'response_url' && /only a failed or interrupted run can be retried/.test(String(c.body.text)));
    // A forged value never reaches the service.
    await bot.click('rollback_abort', "R-1'; DROP TABLE x;--", APPROVER);
    await bot.slack.waitFor((c) => c.method === 'response_url' && /not one of ml-rollback's/.test(String(c.body.text)));
    expect((await store.getRequest('R-1'))!.state).toBe('succeeded');
    expect((await store.allStepRuns('R-1')).length).toBe(3);
  });

  it('two approvals needed (policy): the requester cannot approve, each approver counts once, concurrent clicks run once', async () => {
    bot = await startTestBot({ file: { policy: { procedures: { 'data clear-embeddings': { approvals: 2 } } } } });
    await bot.command(`data clear-embeddings --supplier ${SUPPLIER_A}`, { user_id: REQUESTER });
    await bot.slack.waitFor((c) => c.method === 'response_url' && String(c.body.text).startsWith('R-1 planned'));
    const svc = bot.runtime.service;
    expect((await svc.act('approve', 'R-1', REQUESTER)).text).toMatch(/someone else must approve/);
    expect((await svc.act('approve', 'R-1', APPROVER)).text).toMatch(/needs 1 more/);
    expect((await svc.act('approve', 'R-1', APPROVER)).text).toMatch(/already approved/);
    expect((await bot.runtime.store.getRequest('R-1'))!.state).toBe('awaiting_approval');
    await Promise.all([bot.click('rollback_approve', 'R-1', APPROVER2), bot.click('rollback_approve', 'R-1', APPROVER2), bot.click('rollback_approve', 'R-1', APPROVER)]);
    expect((await bot.waitForState('R-1', ['succeeded', 'failed'])).state).toBe('succeeded');
    const audit = await bot.runtime.store.auditTrail({ requestId: 'R-1' });
    expect(audit.filter((a) => a.action === 'approved').map((a) => a.actor)).toEqual([APPROVER, APPROVER2]);
    expect(audit.filter((a) => a.action === 'run-started')).toHaveLength(1);
    expect(audit.find((a) => a.action === 'approval-refused')?.actor).toBe(REQUESTER);
  });

  it('an expired request offers "Plan again", which re-plans the same command for the clicking user', async () => {
    bot = await startTestBot();
    await bot.command(`data clear-embeddings --supplier ${SUPPLIER_A}`, { user_id: REQUESTER });
    await bot.slack.waitFor((c) => c.method === 'response_url' && String(c.body.text).startsWith('R-1 planned'));
    // Nothing approved it within the window.
    await bot.env.db.query(`UPDATE ml_rollback.requests SET expires_at = now() - interval '1 minute' WHERE id = 'R-1'`);
    expect((await bot.runtime.maintenance!.tick()).expired).toBe(1);
    const update = await bot.slack.waitFor((c) => c.method === 'chat.update' && JSON.stringify(c.body.blocks ?? '').includes('rollback_replan'));
    expect(JSON.stringify(update.body.blocks)).toContain('Plan again');
    expect((await bot.runtime.service.act('approve', 'R-1', APPROVER)).text).toMatch(/R-1 has expired; nothing changed/);

    await bot.click('rollback_replan', 'R-1', APPROVER);
    await bot.slack.waitFor((c) => c.method === 'response_url' && String(c.body.text).startsWith('R-2 planned'));
    const fresh = (await bot.runtime.store.getRequest('R-2'))!;
    expect(fresh.requester).toBe(APPROVER);
    expect(fresh.command).toBe(`data clear-embeddings --supplier ${SUPPLIER_A}`);
    expect(fresh.state).toBe('awaiting_approval');
    // Plan again on a request that is not expired is stale: nothing is planned.
    await bot.click('rollback_replan', 'R-2', APPROVER);
    await bot.slack.waitFor((c) => c.method === 'response_url' && /only an expired request, or one stopped because the world changed, is planned again/.test(String(c.body.text)));
    expect((await bot.runtime.store.recentRequests(10)).length).toBe(2);
    expect(await embeddingsOfA(bot.env)).toBe(120);
  });
});

describe('policy and emergencies, through the service with a real store', () => {
  let env: TestEnv;
  let rt: Runtime;
  afterEach(async () => {
    await rt.close();
    await env.cleanup();
  });

  const recorder = () => {
    const events: Array<{ id: string; e: DecisionEvent }> = [];
    const n: Notifier = { planned: async () => undefined, decided: async (req, e) => void events.push({ id: req.id, e }), progress: async () => undefined, finished: async () => undefined };
    return { n, events };
  };
  const service = (file: unknown, incident: { id: string; severity: 'P1' | 'P2' | 'P3' | 'P4' } | null, groups: (id: string) => Promise<string[]> = async () => []) => {
    const cfg = env.config({}, file);
    const { n, events } = recorder();
    const enqueued: string[] = [];
    const svc = new RequestService({
      store: rt.store, deps: { ...rt.deps, config: cfg.file }, notifier: n, log: memoryLogger().log,
      queue: { enqueue: async (id) => void enqueued.push(id) },
      policy: new Policy(cfg.file, groups),
      openIncident: async () => incident,
    });
    return { svc, events, enqueued };
  };
  const actor = (userId: string) => ({ userId, channelId: 'C0ML', channelName: 'ml-analyze' });
  const cmd = `data clear-embeddings --supplier ${SUPPLIER_A}`;

  it('requesters and approvers by user id and by user group (resolved once, cached); refusals are audited', async () => {
    env = await createTestEnv({ seedRedis: false });
    ({ rt } = await controlRuntime(env));
    let lookups = 0;
    const file = { policy: { requesters: [REQUESTER, 'S0ONCALL'], approvers: ['S0SRE', APPROVER2] } };
    const { svc, enqueued } = service(file, null, async (id) => (lookups++, id === 'S0SRE' ? [APPROVER] : id === 'S0ONCALL' ? ['U0ONCALL01'] : []));
    expect((await svc.handle(cmd, actor('U0STRANGER'))).text).toMatch(/not on the list of people who may request/);
    expect((await svc.handle(cmd, actor('U0ONCALL01'))).ok).toBe(true);
    expect((await svc.handle(cmd, actor(REQUESTER))).ok).toBe(true);
    expect((await svc.handle(cmd, { userId: REQUESTER, channelId: 'C0RANDOM', channelName: 'random' })).text).toMatch(/only in #ml-analyze/);
    expect((await rt.store.recentRequests(10)).map((r) => r.id).sort()).toEqual(['R-1', 'R-2']);
    expect((await svc.act('approve', 'R-1', 'U0NOTSRE01')).text).toMatch(/not on the list of approvers/);
    expect((await svc.act('approve', 'R-1', APPROVER)).ok).toBe(true);
    expect((await svc.act('approve', 'R-2', APPROVER2)).ok).toBe(true);
    expect(enqueued).toEqual(['R-1', 'R-2']);
    // Several checks of the same groups cost one lookup each.
    expect(lookups).toBe(2);
    const actions = (await rt.store.auditTrail()).map((a) => a.action);
    expect(actions.filter((a) => a === 'refused')).toHaveLength(2);
    expect(actions).toContain('approval-refused');
  });

  it('group cache expires after its TTL and does not keep a failed lookup', async () => {
    env = await createTestEnv({ seedRedis: false });
    ({ rt } = await controlRuntime(env));
    let t = 0;
    let calls = 0;
    let fail = true;
    const g = cachedGroups(async () => {
      calls++;
      if (fail) throw new Error('slack down');
      return ['U1'];
    }, 1000, () => t);
    await expect(g('S1')).rejects.toThrow('slack down');
    fail = false;
    expect(await g('S1')).toEqual(['U1']);
    expect(await g('S1')).toEqual(['U1']);
    expect(calls).toBe(2);
    t = 1500;
    await g('S1');
    expect(calls).toBe(3);
  });

  it('--emergency: self-approval only where the policy allows it and only while a P1/P2 is open; loud and audited', async () => {
    env = await createTestEnv({ seedRedis: false });
    ({ rt } = await controlRuntime(env));
    const allow = { policy: { procedures: { 'data clear-embeddings': { emergency: true } } } };
    const emergencyCmd = `${cmd} --emergency matcher is corrupting prices`;

    expect((await service(allow, null).svc.handle(emergencyCmd, actor(REQUESTER))).text).toMatch(/needs an open P1 or P2 incident/);
    expect((await service(allow, { id: 'INC-3', severity: 'P3' }).svc.handle(emergencyCmd, actor(REQUESTER))).text).toMatch(/needs an open P1 or P2/);
    expect((await service({}, { id: 'INC-1', severity: 'P1' }).svc.handle(emergencyCmd, actor(REQUESTER))).text).toMatch(/does not allow --emergency/);
    expect(await rt.store.recentRequests(10)).toHaveLength(0);

    const open = service(allow, { id: 'INC-1', severity: 'P1' });
    const r = await open.svc.handle(emergencyCmd, actor(REQUESTER));
    expect(r.ok).toBe(true);
    // The incident was resolved before the click: no self-approval any more.
    const closed = service(allow, null);
    expect((await closed.svc.act('approve', r.requestId!, REQUESTER)).text).toMatch(/cannot approve your own plan/);
    const approved = await open.svc.act('approve', r.requestId!, REQUESTER);
    expect(approved.ok).toBe(true);
    expect(open.enqueued).toEqual([r.requestId]);
    const ev = open.events.find((x) => x.e.kind === 'approved')!;
    expect(ev.e).toMatchObject({ kind: 'approved', by: REQUESTER, emergency: 'matcher is corrupting prices' });
    const req = (await rt.store.getRequest(r.requestId!))!;
    expect(decisionText(req, ev.e)).toMatch(/<!here>.*SELF-APPROVED/);
    expect(JSON.stringify(planBlocks(req))).toContain('EMERGENCY');
    const audit = await rt.store.auditTrail({ requestId: r.requestId! });
    expect(audit.find((a) => a.action === 'emergency-self-approved')?.detail).toMatchObject({ incident: 'INC-1', severity: 'P1', emergency: 'matcher is corrupting prices' });
    // Without --emergency the same requester is refused even during a P1.
    const normal = await open.svc.handle(cmd, actor(REQUESTER));
    expect((await open.svc.act('approve', normal.requestId!, REQUESTER)).text).toMatch(/someone else must approve/);
  });

  it('the approved plan is what runs: a plan changed in Postgres after approval is refused, nothing runs', async () => {
    env = await createTestEnv({ seedRedis: false });
    ({ rt } = await controlRuntime(env));
    const r = await rt.service.handle(cmd, actor(REQUESTER));
    expect((await rt.service.act('approve', r.requestId!, APPROVER)).ok).toBe(true);
    // Someone with database access widens the delete to every supplier.
    await env.db.query(`UPDATE ml_rollback.requests SET plan = jsonb_set(plan, '{steps,1,params,selection}', '"all-embeddings"') WHERE id = $1`, [r.requestId]);
    const outcome = await runRequest(r.requestId!, { store: rt.store, deps: rt.deps, notifier: recorder().n, worker: 'test', log: memoryLogger().log });
    expect(outcome).toBe('failed');
    const req = (await rt.store.getRequest(r.requestId!))!;
    expect(req.error?.code).toBe('plan_changed');
    expect(await rt.store.allStepRuns(req.id)).toHaveLength(0);
    expect(await embeddingsOfA(env)).toBe(120);
  });

  it('interrupted non-idempotent step: Skip resumes from the next step (audited); Retry and Abort check the state first', async () => {
    env = await createTestEnv({ seedRedis: false });
    ({ rt } = await controlRuntime(env));
    const run = (id: string) => runRequest(id, { store: rt.store, deps: rt.deps, notifier: recorder().n, worker: 'w2', log: memoryLogger().log });
    const plan = testPlan([effectStep(0), effectStep(1, { idempotent: false }), effectStep(2)]);
    const dead = async () => {
      const req = await createPlanned(rt.store, plan, REQUESTER);
      await rt.service.act('approve', req.id, APPROVER);
      // A worker that died inside step 2: step 1 done, step 2 left "running".
      await rt.store.transition(req.id, ['approved'], 'running');
      const s1 = await rt.store.startStep({ requestId: req.id, runNo: 1, stepIndex: 0, stepId: 'effect-1', worker: 'w1' });
      await rt.store.finishStep(s1.id, 'succeeded', { summary: 'ok' });
      await rt.store.startStep({ requestId: req.id, runNo: 1, stepIndex: 1, stepId: 'effect-2', worker: 'w1' });
      expect(await run(req.id)).toBe('interrupted');
      return req.id;
    };
    const a = await dead();
    expect((await rt.store.getRequest(a))!.error?.step).toBe(1);
    expect((await rt.service.act('skip', a, APPROVER, { fromStep: 2 })).text).toMatch(/not the step/);
    expect((await rt.service.act('skip', a, APPROVER, { fromStep: 1 })).ok).toBe(true);
    expect((await rt.service.act('skip', a, APPROVER, { fromStep: 1 })).text).toMatch(/only a failed or interrupted run/);
    expect(await run(a)).toBe('succeeded');
    expect(Object.fromEntries(await effectsOf(env, a))).toEqual({ 'effect-3': 1 });
    const trail = (await rt.store.auditTrail({ requestId: a })).map((x) => x.action);
    expect(trail).toContain('step-skipped');
    expect(trail).toContain('interrupted');

    const b = await dead();
    // Past the interrupted step: refused at once, not queued to fail again.
    expect((await rt.service.act('retry', b, APPROVER, { fromStep: 2 })).text).toMatch(/step 2 of R-\d+ has not completed; retry from step 2/);
    expect((await rt.store.getRequest(b))!.state).toBe('interrupted');
    expect((await rt.service.act('retry', b, APPROVER, { fromStep: 1 })).ok).toBe(true);
    expect(await run(b)).toBe('succeeded');
    expect(Object.fromEntries(await effectsOf(env, b))).toEqual({ 'effect-2': 1, 'effect-3': 1 });

    const c = await dead();
    expect((await rt.service.act('abort', c, APPROVER)).ok).toBe(true);
    expect((await rt.service.act('abort', c, APPROVER)).text).toMatch(/nothing to abort/);
    expect((await rt.service.act('retry', c, APPROVER, { fromStep: 1 })).text).toMatch(/was aborted; nothing more will run/);
    expect((await rt.service.act('skip', c, APPROVER, { fromStep: 1 })).text).toMatch(/was aborted/);
    expect(await run(c)).toBe('noop');
    expect((await effectsOf(env, c)).size).toBe(0);
  });
});
