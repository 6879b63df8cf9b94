import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/bot/render.js';
import { SUPPLIER_A } from '../../src/sandbox/seed.js';
import { startTestBot, type TestBot } from '../support/bot.js';
import { allJobs, APPROVER, auditActions, blocksText, clickAs, commandAs, embeddingsOf, hasButtons, planPost, REQUESTER, stepRuns } from '../support/e2e.js';

/** Four eyes, Reject and Cancel over signed HTTP: each refusal changes nothing and runs nothing. */
describe('approval rules', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await startTestBot();
  });
  afterEach(async () => {
    await bot.close();
  });

  async function planDestructive() {
    const cmd = await commandAs(bot, `data clear-embeddings --supplier ${SUPPLIER_A}`, { user_id: REQUESTER });
    expect(cmd.status).toBe(200);
    expect((await cmd.reply()).text).toMatch(/^R-1 planned \(waiting for approval/);
    return planPost(bot, 'R-1');
  }

  async function assertNothingRan() {
    expect(await stepRuns(bot, 'R-1')).toHaveLength(0);
    expect(await allJobs(bot)).toHaveLength(0);
    expect(await embeddingsOf(bot, SUPPLIER_A)).toBe(120);
  }

  it('refuses self-approval of a destructive plan with an ephemeral reply; the request keeps waiting', async () => {
    await planDestructive();
    const click = await clickAs(bot, ACTIONS.approve, 'R-1', REQUESTER);
    expect(click.status).toBe(200);
    const reply = await click.reply();
    expect(reply.text).toContain('someone else must approve');
    expect(reply.call.body.response_type).toBe('ephemeral');
    expect(reply.call.body.replace_original).toBe(false);

    const req = await bot.runtime.store.getRequest('R-1');
    expect(req?.state).toBe('awaiting_approval');
    const audit = await auditActions(bot, 'R-1');
    expect(audit).toContain('approval-refused');
    expect(audit).not.toContain('approved');
    await assertNothingRan();
    // Nobody else was told anything: no thread note and no edit of the plan.
    expect(bot.slack.callsOf('chat.update')).toHaveLength(0);
  });

  it('Reject by another person ends the request, removes the buttons and runs nothing', async () => {
    const plan = await planDestructive();
    expect(hasButtons(plan.body.blocks)).toBe(true);
    const click = await clickAs(bot, ACTIONS.reject, 'R-1', APPROVER);
    expect(click.status).toBe(200);
    expect((await click.reply()).text).toBe('R-1 rejected');
    expect((await bot.waitForState('R-1', ['rejected'])).state).toBe('rejected');

    const ts = String(plan.response.ts);
    await bot.slack.waitFor((c) => c.method === 'chat.update' && c.body.ts === ts);
    const stored = bot.slack.message(String(plan.response.channel), ts)!;
    expect(stored.updates).toBeGreaterThanOrEqual(1);
    expect(hasButtons(stored.blocks)).toBe(false);
    expect(blocksText(stored.blocks)).toContain('rejected');
    const note = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && c.body.thread_ts === ts);
    expect(String(note.body.text)).toContain(`<@${APPROVER}> rejected R-1; nothing ran`);
    await assertNothingRan();

    // A click on the finished request changes nothing.
    const late = await clickAs(bot, ACTIONS.approve, 'R-1', APPROVER);
    expect((await late.reply()).text).toBe('R-1 was rejected; nothing changed');
    expect((await bot.runtime.store.getRequest('R-1'))?.state).toBe('rejected');
    await assertNothingRan();
  });

  it('Cancel before approval withdraws the request; a later Approve changes nothing', async () => {
    const plan = await planDestructive();
    const cancel = await clickAs(bot, ACTIONS.cancel, 'R-1', REQUESTER);
    expect((await cancel.reply()).text).toBe('R-1 cancelled; nothing ran');
    expect((await bot.runtime.store.getRequest('R-1'))?.state).toBe('cancelled');
    const ts = String(plan.response.ts);
    await bot.slack.waitFor((c) => c.method === 'chat.update' && c.body.ts === ts);
    expect(hasButtons(bot.slack.message(String(plan.response.channel), ts)!.blocks)).toBe(false);

    const approve = await clickAs(bot, ACTIONS.approve, 'R-1', APPROVER);
    expect((await approve.reply()).text).toBe('R-1 was cancelled; nothing changed');
    const audit = await auditActions(bot, 'R-1');
    expect(audit.slice(0, 2)).toEqual(['requested', 'cancelled']);
    expect(audit).not.toContain('approved');
    await assertNothingRan();
  });
});
