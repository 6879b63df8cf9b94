import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/bot/render.js';
import { SUPPLIER_A, SUPPLIER_B } from '../../src/sandbox/seed.js';
import { SIGNING_SECRET } from '../support/bot.js';
import { spawnBot, type ChildBot } from '../support/childBot.js';
import { APPROVER, REQUESTER } from '../support/e2e.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startFakeSlack, type FakeSlack } from '../support/fakeSlack.js';
import { blockActionsBody, postSigned, slashCommandBody } from '../support/slackSign.js';

async function embeddingsOf(env: TestEnv, supplier: string): Promise<number> {
  const { rows } = await env.db.query<{ n: string }>(
    'SELECT count(*) AS n FROM product_embeddings pe JOIN supplier_items si ON si.id = pe.supplier_item_id WHERE si.supplier_id = $1',
    [supplier],
  );
  return Number(rows[0]!.n);
}

/** The real program (`src/main.ts all`) as its own process: start, serve the main job, stop on SIGTERM. */
describe('the program as a child process', () => {
  let env: TestEnv;
  let slack: FakeSlack;
  let bot: ChildBot | undefined;
  beforeEach(async () => {
    env = await createTestEnv();
    slack = await startFakeSlack();
  });
  afterEach(async () => {
    bot?.kill();
    await bot?.exited;
    await slack.close();
    await env.cleanup();
  });

  it('gets ready, plans, runs an approved clear-embeddings, and exits 0 on SIGTERM', async () => {
    bot = await spawnBot(env, slack.apiUrl);
    await bot.waitForOutput(/ml-rollback started/);
    const ready = await fetch(`${bot.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, checks: { postgres: true, redis: true } });

    const events = `${bot.url}/slack/events`;
    const cmd = await postSigned(events, SIGNING_SECRET, slashCommandBody({ text: `data clear-embeddings --supplier ${SUPPLIER_A}`, user_id: REQUESTER, response_url: slack.responseUrl('cmd') }));
    expect(cmd.status).toBe(200);
    expect(String((await slack.waitFor('response_url')).body.text)).toMatch(/^R-1 planned \(waiting for approval/);
    const plan = await slack.waitFor((c) => c.method === 'chat.postMessage' && !c.body.thread_ts);
    expect(plan.token).toBe('xoxb-0000-test-token-do-not-leak');

    const click = await postSigned(events, SIGNING_SECRET, blockActionsBody({ userId: APPROVER, actionId: ACTIONS.approve, value: 'R-1', responseUrl: slack.responseUrl('click') }));
    expect(click.status).toBe(200);
    const threadTs = String(plan.response.ts);
    const outcome = await slack.waitFor(
      (c) => c.method === 'chat.postMessage' && c.body.thread_ts === threadTs && JSON.stringify(c.body.blocks ?? '').includes('R-1 succeeded'),
      30_000,
    );
    expect(JSON.stringify(outcome.body.blocks)).toContain('Health verification checklist');
    expect(await embeddingsOf(env, SUPPLIER_A)).toBe(0);
    expect(await embeddingsOf(env, SUPPLIER_B)).toBe(40);
    const { rows } = await env.db.query<{ state: string }>("SELECT state FROM ml_rollback.requests WHERE id = 'R-1'");
    expect(rows[0]?.state).toBe('succeeded');

    const stopAsked = Date.now();
    bot.proc.kill('SIGTERM');
    const code = await bot.exited;
    expect(code).toBe(0);
    expect(Date.now() - stopAsked).toBeLessThan(5000);
    expect(bot.output.join('\n')).not.toContain('xoxb-0000-test-token-do-not-leak');
  });
});
