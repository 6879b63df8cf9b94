import type { App, BlockButtonAction } from '@slack/bolt';
import { ACTIONS, mentionIds } from '../../bot/render.js';
import type { HandlerContext } from '../context.js';
import { parseButtonValue } from './decide.js';

/** "Plan again" on an expired request: ack, then the service re-plans the same command for the clicker. */
export function registerReplanButton(app: App, ctx: HandlerContext): void {
  app.action<BlockButtonAction>(ACTIONS.replan, async ({ ack, body, action: button, respond }) => {
    await ack();
    const parsed = parseButtonValue(button.value);
    if (!parsed || parsed.step !== undefined) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: 'That button is not one of ml-rollback\'s; nothing changed.' });
      return;
    }
    const reply = await ctx.service.replan(parsed.requestId, body.user.id);
    await respond({ response_type: 'ephemeral', replace_original: false, text: mentionIds(reply.text) });
  });
}
