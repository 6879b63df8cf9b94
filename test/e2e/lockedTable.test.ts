import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestBot, type TestBot } from '../support/bot.js';

describe('a table locked by someone else', () => {
  let bot: TestBot;
  let holder: pg.Client;
  beforeEach(async () => {
    bot = await startTestBot({ worker: false });
    holder = new pg.Client({ connectionString: bot.env.databaseUrl });
    await holder.connect();
  });
  afterEach(async () => {
    await holder.end();
    await bot.close();
  });

  it('makes planning fail within the lock timeout with a clear reply, instead of hanging in silence', async () => {
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE match_review_queue IN ACCESS EXCLUSIVE MODE');
    const started = Date.now();
    await bot.command('data clear-review-queue --since 2024-01-15T10:00:00Z');
    const reply = await bot.slack.waitFor('response_url', 20_000);
    expect(String(reply.body.text)).toMatch(/lock timeout/);
    expect(String(reply.body.text)).toMatch(/Nothing was run/);
    // lockTimeoutMs defaults to 2 s; well under the 55 s a plain wait took.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await bot.runtime.store.recentRequests(5)).length).toBe(0);
    await holder.query('ROLLBACK');
  });
});
