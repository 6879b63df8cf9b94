import type { App } from '@slack/bolt';
import { mentionIds } from '../../bot/render.js';
import { coerceError } from '../../errors.js';
import type { HandlerContext } from '../context.js';

export const COMMAND = '/ml-rollback';

/**
 * Acks first. Bad input is answered inside the ack (parsing is synchronous and cheap); everything
 * else is acked empty and answered through response_url once the plan is made.
 */
export function registerMlRollback(app: App, ctx: HandlerContext): void {
  app.command(COMMAND, async ({ command, ack, respond }) => {
    const parsed = ctx.service.parse(command.text ?? '');
    if (!parsed.ok || parsed.command.kind === 'help') {
      const text = parsed.ok ? (await ctx.service.execute(parsed.command, { userId: command.user_id, channelId: command.channel_id }, command.text)).text : parsed.reply.text;
      await ack({ response_type: 'ephemeral', text });
      if (!parsed.ok) await ctx.service.recordRefusedInput(command.text ?? '', { userId: command.user_id, channelId: command.channel_id }, parsed.reply);
      return;
    }
    await ack();
    try {
      const reply = await ctx.service.execute(parsed.command, { userId: command.user_id, channelId: command.channel_id, channelName: command.channel_name }, command.text);
      await respond({ response_type: 'ephemeral', replace_original: false, text: mentionIds(reply.text) });
    } catch (err) {
      ctx.log.error({ err: coerceError(err).message }, 'slash command reply failed');
    }
  });
}
