import type { App, BlockButtonAction } from '@slack/bolt';
import { ACTIONS, mentionIds } from '../../bot/render.js';
import { REQUEST_ID_RE } from '../../rollback/command.js';
import type { ButtonAction } from '../../requests/service.js';
import type { HandlerContext } from '../context.js';

const ACTION_OF: Record<string, ButtonAction> = {
  [ACTIONS.approve]: 'approve',
  [ACTIONS.reject]: 'reject',
  [ACTIONS.cancel]: 'cancel',
  [ACTIONS.retry]: 'retry',
  [ACTIONS.abort]: 'abort',
  [ACTIONS.skip]: 'skip',
};

/** Button values are `R-N` or, for retry, `R-N|stepIndex`; anything else is refused. */
export function parseButtonValue(value: string | undefined): { requestId: string; step?: number } | undefined {
  const [id, step, ...rest] = (value ?? '').split('|');
  if (!id || !REQUEST_ID_RE.test(id) || rest.length) return undefined;
  if (step === undefined) return { requestId: id };
  if (!/^\d{1,3}$/.test(step)) return undefined;
  return { requestId: id, step: Number(step) };
}

/** Approve / Reject / Cancel / Retry from step N / Abort: ack, then one call to the service. */
export function registerDecisionButtons(app: App, ctx: HandlerContext): void {
  for (const [actionId, action] of Object.entries(ACTION_OF)) {
    app.action<BlockButtonAction>(actionId, async ({ ack, body, action: button, respond }) => {
      await ack();
      const parsed = parseButtonValue(button.value);
      if (!parsed) {
        await respond({ response_type: 'ephemeral', replace_original: false, text: 'That button is not one of ml-rollback\'s; nothing changed.' });
        return;
      }
      const reply = await ctx.service.act(action, parsed.requestId, body.user.id, parsed.step !== undefined ? { fromStep: parsed.step } : {});
      if (!reply.ok || action !== 'approve') {
        await respond({ response_type: 'ephemeral', replace_original: false, text: mentionIds(reply.text) });
      }
    });
  }
}
