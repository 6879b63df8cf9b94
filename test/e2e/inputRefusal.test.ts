import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SEED_COUNTS, SUPPLIER_A } from '../../src/sandbox/seed.js';
import { startTestBot, type TestBot } from '../support/bot.js';
import { allJobs, auditActions, commandAs, embeddingsOf, requestCount, sql, tableCount } from '../support/e2e.js';

/** Refusals happen before anything is planned: nothing stored, nothing queued, the tables intact. */
describe('input that is refused', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await startTestBot();
  });
  afterEach(async () => {
    await bot.close();
  });

  async function assertNothingPlanned(): Promise<void> {
    expect(await requestCount(bot)).toBe(0);
    expect(await allJobs(bot)).toHaveLength(0);
    expect(bot.slack.callsOf('chat.postMessage')).toHaveLength(0);
    expect(await tableCount(bot, 'supplier_items')).toBe(SEED_COUNTS.supplierItems);
    expect(await tableCount(bot, 'product_embeddings')).toBe(SEED_COUNTS.embeddings);
    expect(await embeddingsOf(bot, SUPPLIER_A)).toBe(120);
    const tables = await sql<{ n: string }>(bot, "SELECT count(*) AS n FROM information_schema.tables WHERE table_name IN ('supplier_items', 'x')");
    expect(Number(tables[0]!.n)).toBe(1);
  }

  const BAD_INPUT: ReadonlyArray<[string, string]> = [
    ['SQL after a supplier id', 'data clear-embeddings --supplier 1;DROP TABLE x'],
    ['quoted SQL as the supplier', "data clear-embeddings --supplier '; DROP TABLE supplier_items; --"],
    ['Slack-escaped and curly-quoted SQL', 'data clear-embeddings --supplier \u201C&lt;x&gt;; DROP TABLE supplier_items\u201D'],
    ['an unknown procedure', 'frobnicate'],
    ['a missing argument', 'data revert-matches'],
    ['shell substitution', '$(rm -rf /)'],
    ['backticks', '`rm -rf /`'],
    ['shell substitution as a value', 'data revert-matches --since $(date)'],
  ];

  // One bot for all the cases: each is a separate slash command, and none may leave a trace but its audit line.
  it('bad input is answered inside the ack with the usage line, and nothing is planned', async () => {
    for (const [what, text] of BAD_INPUT) {
      const res = await commandAs(bot, text);
      expect(res.status, what).toBe(200);
      const ack = JSON.parse(res.body) as { response_type?: string; text?: string };
      expect(ack.response_type, what).toBe('ephemeral');
      expect(ack.text, what).toContain('Usage:');
    }
    await assertNothingPlanned();
    // Refused input is remembered (who tried what), and that is all that is stored.
    await expect.poll(() => auditActions(bot)).toEqual(BAD_INPUT.map(() => 'refused-input'));
    expect(bot.slack.callsOf('response_url')).toEqual([]);
  });

  it('a procedure outside #ml-analyze is refused privately and nothing is planned', async () => {
    const res = await commandAs(bot, `data clear-embeddings --supplier ${SUPPLIER_A}`, { channel_id: 'C0GENERAL', channel_name: 'general' });
    expect(res.status).toBe(200);
    const reply = await res.reply();
    expect(reply.call.body.response_type).toBe('ephemeral');
    expect(reply.text).toContain('only in #ml-analyze');
    expect(reply.text).toContain('Nothing was run');
    await assertNothingPlanned();
    expect(await auditActions(bot)).toEqual(['refused']);
  });
});
