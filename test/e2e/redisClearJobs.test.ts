import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/bot/render.js';
import { TARGET_REDIS_JOB_COUNT, TARGET_REDIS_QUEUE_KEY, TARGET_REDIS_UNRELATED_KEYS } from '../../src/sandbox/seed.js';
import { startTestBot, type TestBot } from '../support/bot.js';
import { APPROVER, clickAs, commandAs, REQUESTER } from '../support/e2e.js';

async function jobKeys(bot: TestBot): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await bot.env.redis.scan(cursor, 'MATCH', 'ml-analyze:job:*', 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

/** The runbook's step 4 alone: SCAN + UNLINK of exactly the job keys and the arq queue, backed up first. */
describe('redis clear-jobs, then status and history', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await startTestBot();
  });
  afterEach(async () => {
    await bot.close();
  });

  it('removes the 37 job keys and the queue, keeps unrelated keys, writes a backup; status and history report it', async () => {
    expect(await jobKeys(bot)).toHaveLength(TARGET_REDIS_JOB_COUNT);
    const cmd = await commandAs(bot, 'redis clear-jobs', { user_id: REQUESTER });
    expect((await cmd.reply()).text).toMatch(/^R-1 planned \(waiting for approval/);
    const plan = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && !c.body.thread_ts);
    expect(JSON.stringify(plan.body.blocks)).toContain(`${TARGET_REDIS_JOB_COUNT} keys match ml-analyze:job:*`);

    const click = await clickAs(bot, ACTIONS.approve, 'R-1', APPROVER);
    expect(click.status).toBe(200);
    expect((await bot.waitForState('R-1', ['succeeded', 'failed'])).state).toBe('succeeded');

    expect(await jobKeys(bot)).toEqual([]);
    expect(await bot.env.redis.exists(TARGET_REDIS_QUEUE_KEY)).toBe(0);
    for (const key of TARGET_REDIS_UNRELATED_KEYS) expect(await bot.env.redis.exists(key), key).toBe(1);

    const backup = readFileSync(path.join(bot.env.backupDir, 'R-1-redis-jobs.jsonl'), 'utf8').trim().split('\n');
    const saved = backup.map((line) => (JSON.parse(line) as { key: string }).key);
    expect(saved).toHaveLength(TARGET_REDIS_JOB_COUNT + 1);
    expect(saved).toContain(TARGET_REDIS_QUEUE_KEY);
    expect(saved.filter((k) => k.startsWith('ml-analyze:job:'))).toHaveLength(TARGET_REDIS_JOB_COUNT);

    const unlink = (await bot.runtime.store.allStepRuns('R-1')).find((r) => r.stepId === 'unlink-job-keys');
    expect(unlink?.keys).toBe(TARGET_REDIS_JOB_COUNT);

    const status = await commandAs(bot, 'status R-1', { user_id: APPROVER });
    const statusText = (await status.reply()).text;
    expect(statusText).toContain('*R-1*');
    expect(statusText).toContain('*succeeded*');
    expect(statusText).toContain(`unlinked ${TARGET_REDIS_JOB_COUNT} keys matching ml-analyze:job:*`);
    expect(statusText).toContain(`approved by <@${APPROVER}>`);

    const history = await commandAs(bot, 'history');
    const lines = (await history.reply()).text.split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^R-1 .* redis clear-jobs {2}— ✅ R-1 succeeded: Clear ML-Analyze Redis jobs$/);

    // Three commands and a click, one auth.test: no ack waits on a Web API round trip but the first.
    expect(bot.slack.callsOf('auth.test')).toHaveLength(1);
  });
});
