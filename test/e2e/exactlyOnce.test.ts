import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/bot/render.js';
import { SUPPLIER_A, SUPPLIER_B } from '../../src/sandbox/seed.js';
import { startTestBot, type TestBot } from '../support/bot.js';
import { allJobs, APPROVER, APPROVER_2, auditActions, clickAs, commandAs, embeddingsOf, REQUESTER, stepRuns } from '../support/e2e.js';

/**
 * Slack does not retry clicks; people do. Double clicks and racing approvers must approve once,
 * enqueue once and run every step once.
 */
describe('Approve clicked many times runs the plan exactly once', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await startTestBot();
  });
  afterEach(async () => {
    await bot.close();
  });

  async function plan(): Promise<void> {
    const cmd = await commandAs(bot, `data clear-embeddings --supplier ${SUPPLIER_A}`, { user_id: REQUESTER });
    expect((await cmd.reply()).text).toMatch(/^R-1 planned/);
  }

  async function assertRanOnce(): Promise<void> {
    const done = await bot.waitForState('R-1', ['succeeded', 'failed']);
    expect(done.state).toBe('succeeded');
    const runs = await stepRuns(bot, 'R-1');
    // One attempt of each of the three steps (backup, delete, checklist), in the one run.
    expect(runs.map((r) => [r.stepIndex, r.attempt, r.runNo])).toEqual([
      [0, 1, 1],
      [1, 1, 1],
      [2, 1, 1],
    ]);
    const deleted = runs.find((r) => r.stepId === 'delete-embeddings');
    expect(deleted?.rows).toBe(120);
    expect(await embeddingsOf(bot, SUPPLIER_A)).toBe(0);
    expect(await embeddingsOf(bot, SUPPLIER_B)).toBe(40);
    const jobs = await allJobs(bot);
    expect(jobs.map((j) => j.id)).toEqual(['R-1']);
    const audit = await auditActions(bot, 'R-1');
    expect(audit.filter((a) => a === 'approved')).toHaveLength(1);
    expect(bot.slack.callsOf('chat.postMessage').filter((c) => String(c.body.text).includes('approved R-1; queued'))).toHaveLength(1);
  }

  it('double and triple clicks by the same approver', async () => {
    await plan();
    const clicks = await Promise.all([1, 2, 3].map(() => clickAs(bot, ACTIONS.approve, 'R-1', APPROVER)));
    expect(clicks.map((c) => c.status)).toEqual([200, 200, 200]);
    await assertRanOnce();
    // The two losing clicks are told, privately, that nothing changed; the winner gets no reply.
    const replies = () => bot.slack.callsOf('response_url').filter((c) => clicks.some((k) => k.replyId === c.responseId));
    await bot.slack.waitFor(() => replies().length >= 2);
    expect(replies()).toHaveLength(2);
    for (const r of replies()) expect(String(r.body.text)).toMatch(/nothing changed$/);

    // A click on the finished request: nothing changes, nothing runs again.
    const late = await clickAs(bot, ACTIONS.approve, 'R-1', APPROVER_2);
    expect((await late.reply()).text).toBe('R-1 has already succeeded; nothing changed');
    expect(await stepRuns(bot, 'R-1')).toHaveLength(3);
    expect(await allJobs(bot)).toHaveLength(1);
  });

  it('two different approvers at the same moment', async () => {
    await plan();
    const [a, b] = await Promise.all([clickAs(bot, ACTIONS.approve, 'R-1', APPROVER), clickAs(bot, ACTIONS.approve, 'R-1', APPROVER_2)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await assertRanOnce();
    const replies = () => bot.slack.callsOf('response_url').filter((c) => c.responseId === a.replyId || c.responseId === b.replyId);
    await bot.slack.waitFor(() => replies().length >= 1);
    expect(replies()).toHaveLength(1);
    expect(String(replies()[0]!.body.text)).toMatch(/^R-1 is .*; nothing changed$/);
    const decisions = await bot.runtime.store.decisions('R-1');
    expect(decisions.filter((d) => d.decision === 'approve')).toHaveLength(1);
  });
});
