import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/bot/render.js';
import { startTestBot, type TestBot } from '../support/bot.js';
import { APPROVER, blocksText, clickAs, commandAs, planPost, REQUESTER } from '../support/e2e.js';

/** chat.update is Tier 3: a 429 is waited out (Retry-After), and the final state still arrives. */
describe('Slack rate limits', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await startTestBot();
  });
  afterEach(async () => {
    await bot.close();
  });

  it('delivers the final progress and the outcome after waiting out 429s on chat.update', async () => {
    const cmd = await commandAs(bot, 'redis clear-jobs', { user_id: REQUESTER });
    expect((await cmd.reply()).text).toMatch(/^R-1 planned/);
    const plan = await planPost(bot, 'R-1');
    const threadTs = String(plan.response.ts);
    const channel = String(plan.response.channel);

    bot.slack.rateLimit('chat.update', 3, 1);
    await clickAs(bot, ACTIONS.approve, 'R-1', APPROVER);
    expect((await bot.waitForState('R-1', ['succeeded', 'failed'])).state).toBe('succeeded');

    const outcome = await bot.slack.waitFor(
      (c) => c.method === 'chat.postMessage' && c.body.thread_ts === threadTs && blocksText(c.body.blocks).includes('R-1 succeeded'),
      15_000,
    );
    const updates = bot.slack.callsOf('chat.update');
    const limited = updates.filter((c) => c.limited);
    expect(limited).toHaveLength(3);
    // Every 429 held back all chat.update calls (not just the one it answered) for its Retry-After;
    // only calls already in flight when it was answered may arrive just after it.
    for (const l of limited) {
      const sentDuring = updates.filter((c) => c.at > l.at + 100 && c.at < l.at + 950);
      expect(sentDuring, `calls within Retry-After of the 429 at ${l.at}`).toEqual([]);
    }

    // The progress message and the plan message both end in their final state.
    const progressTs = (await bot.runtime.store.getRequest('R-1'))!.progressTs!;
    await bot.slack.waitFor((c) => c.method === 'chat.update' && !c.limited && c.body.ts === threadTs && blocksText(c.body.blocks).includes('succeeded'));
    const progress = bot.slack.message(channel, progressTs)!;
    expect(blocksText(progress.blocks)).toContain('succeeded');
    expect(blocksText(progress.blocks)).not.toContain('⏳');
    expect(blocksText(bot.slack.message(channel, threadTs)!.blocks)).toContain('*State:* succeeded');
    expect(outcome.at).toBeGreaterThan(limited[0]!.at);
  });
});
