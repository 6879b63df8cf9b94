import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeServices, type FakeServices } from '../../src/sandbox/fakeServices.js';
import { startTestBot, type TestBot } from '../support/bot.js';
import { allJobs, auditActions, blocksText, commandAs, planPost, REQUESTER, stepRuns } from '../support/e2e.js';

/** `verify` is read-only: it runs at once, with no approval, and ends with the runbook's checklist. */
describe('verify', () => {
  let services: FakeServices;
  let bot: TestBot;
  beforeEach(async () => {
    services = await startFakeServices();
    services.setHealthy('frontend', false);
    bot = await startTestBot({ env: { ML_ANALYZE_URL: services.urls.mlAnalyze, BUN_API_URL: services.urls.bunApi, FRONTEND_URL: services.urls.frontend } });
  });
  afterEach(async () => {
    await bot.close();
    await services.close();
  });

  it('runs without approval and posts the health checklist in the thread', async () => {
    const cmd = await commandAs(bot, 'verify', { user_id: REQUESTER });
    expect(cmd.status).toBe(200);
    expect((await cmd.reply()).text).toBe('R-1 planned (read-only: running now).');
    const plan = await planPost(bot, 'R-1');
    const done = await bot.waitForState('R-1', ['succeeded', 'failed']);
    expect(done.state).toBe('succeeded');
    expect(await auditActions(bot, 'R-1')).toEqual(expect.arrayContaining(['requested', 'approved']));
    expect((await bot.runtime.store.decisions('R-1')).length).toBe(0);
    expect((await stepRuns(bot, 'R-1')).map((r) => r.stepId)).toEqual(['health-checklist']);
    expect(await allJobs(bot)).toHaveLength(1);

    const threadTs = String(plan.response.ts);
    const outcome = await bot.slack.waitFor(
      (c) => c.method === 'chat.postMessage' && c.body.thread_ts === threadTs && blocksText(c.body.blocks).includes('*Health verification checklist*'),
    );
    const text = blocksText(outcome.body.blocks);
    // Each item carries its evidence: the real services answered, the frontend stand-in is down.
    expect(text).toContain('✅ API returns 200 on /health');
    expect(text).toContain('✅ Database connections working: SELECT 1');
    expect(text).toContain('✅ Redis connectivity verified: PING → PONG');
    expect(text).toContain('❌ Other services unaffected');
    expect(services.calls.filter((c) => c.path === '/health').map((c) => c.service).sort()).toEqual(['bun-api', 'frontend', 'ml-analyze']);
  });
});
