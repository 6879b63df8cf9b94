import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SUPPLIER_A, SUPPLIER_B } from '../../src/sandbox/seed.js';
import { startTestBot, type TestBot } from '../support/bot.js';

const REQUESTER = 'U0FAKEUS1';
const APPROVER = 'U0FAKEUS2';

async function embeddingsOf(bot: TestBot, supplier: string): Promise<number> {
  const { rows } = await bot.env.db.query<{ n: string }>(
    'SELECT count(*) AS n FROM product_embeddings pe JOIN supplier_items si ON si.id = pe.supplier_item_id WHERE si.supplier_id = $1',
    [supplier],
  );
  return Number(rows[0]!.n);
}

describe('clear-embeddings over signed HTTP: plan, approve by a second person, run, report', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await startTestBot();
  });
  afterEach(async () => {
    await bot.close();
  });

  it('deletes exactly the supplier\'s embeddings after approval and reports in the thread', async () => {
    const res = await bot.command(`data clear-embeddings --supplier ${SUPPLIER_A}`, { user_id: REQUESTER });
    expect(res.status).toBe(200);
    const plan = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && !c.body.thread_ts);
    expect(JSON.stringify(plan.body.blocks)).toContain(`120 embeddings of supplier ${SUPPLIER_A}`);
    const reply = await bot.slack.waitFor('response_url');
    expect(String(reply.body.text)).toMatch(/^R-1 planned/);
    expect(await embeddingsOf(bot, SUPPLIER_A)).toBe(120);

    const click = await bot.click('rollback_approve', 'R-1', APPROVER);
    expect(click.status).toBe(200);
    const done = await bot.waitForState('R-1', ['succeeded', 'failed']);
    expect(done.state).toBe('succeeded');
    expect(await embeddingsOf(bot, SUPPLIER_A)).toBe(0);
    expect(await embeddingsOf(bot, SUPPLIER_B)).toBe(40);

    const threadTs = String(plan.response?.ts ?? '');
    const outcome = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && c.body.thread_ts === threadTs && JSON.stringify(c.body.blocks ?? '').includes('succeeded'));
    expect(JSON.stringify(outcome.body.blocks)).toContain('Health verification checklist');
  });
});
