import type { App, BlockButtonAction } from '@slack/bolt';
import { INCIDENT_ACTIONS } from '../../bot/incidentRender.js';
import { mentionIds } from '../../bot/render.js';
import { SUGGESTED } from '../../incidents/types.js';
import type { HandlerContext } from '../context.js';
import { DISABLED, NOT_OURS, parseIncidentValue } from './value.js';

/**
 * The suggested procedures on an incident ("Plan container rollback"): a real request, planned as
 * the person who clicked, in the incident's thread. It still needs an approver like any other.
 */
export function registerSuggestionButtons(app: App, ctx: HandlerContext): void {
  for (const s of SUGGESTED) {
    app.action<BlockButtonAction>(`${INCIDENT_ACTIONS.plan}_${s.key}`, async ({ ack, body, action, respond }) => {
      await ack();
      const parsed = parseIncidentValue(action.value);
      if (!parsed || parsed.suggestion?.key !== s.key) return void (await respond({ response_type: 'ephemeral', replace_original: false, text: NOT_OURS }));
      if (!ctx.incidents) return void (await respond({ response_type: 'ephemeral', replace_original: false, text: DISABLED }));
      const inc = await ctx.incidents.get(parsed.incidentId);
      if (!inc || inc.status === 'resolved') {
        return void (await respond({ response_type: 'ephemeral', replace_original: false, text: inc ? `${inc.id} is resolved; run \`/ml-rollback ${s.command}\` if it is still needed` : `no incident ${parsed.incidentId}` }));
      }
      const channelId = body.channel?.id ?? inc.channelId;
      const reply = await ctx.service.handle(s.command, { userId: body.user.id, channelId, channelName: body.channel?.name });
      await respond({ response_type: 'ephemeral', replace_original: false, text: mentionIds(reply.text) });
    });
  }
}
