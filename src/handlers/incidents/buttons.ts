import type { App, BlockButtonAction } from '@slack/bolt';
import { INCIDENT_ACTIONS, updateModal } from '../../bot/incidentRender.js';
import { mentionIds } from '../../bot/render.js';
import { coerceError } from '../../errors.js';
import type { HandlerContext } from '../context.js';
import { DISABLED, NOT_OURS, parseIncidentValue } from './value.js';

/** Update (opens the modal) and Resolve on the announcement: ack, then one call to the incident service. */
export function registerIncidentButtons(app: App, ctx: HandlerContext): void {
  app.action<BlockButtonAction>(INCIDENT_ACTIONS.update, async ({ ack, body, action, respond, client }) => {
    await ack();
    const parsed = parseIncidentValue(action.value);
    if (!parsed || parsed.suggestion) return void (await respond({ response_type: 'ephemeral', replace_original: false, text: NOT_OURS }));
    if (!ctx.incidents) return void (await respond({ response_type: 'ephemeral', replace_original: false, text: DISABLED }));
    const inc = await ctx.incidents.get(parsed.incidentId);
    if (!inc || inc.status === 'resolved') {
      return void (await respond({ response_type: 'ephemeral', replace_original: false, text: inc ? `${inc.id} is resolved; nothing to update` : `no incident ${parsed.incidentId}` }));
    }
    try {
      // trigger_id lives about 3 s: open the modal before anything slow.
      await client.views.open({ trigger_id: body.trigger_id, view: updateModal(inc, body.channel?.id) });
    } catch (err) {
      ctx.log.warn({ incidentId: inc.id, err: coerceError(err).message }, 'could not open the update modal');
      await respond({ response_type: 'ephemeral', replace_original: false, text: `Could not open the form; use \`/ml-rollback incident update ${inc.id} --status … --eta … --actions …\`` });
    }
  });

  app.action<BlockButtonAction>(INCIDENT_ACTIONS.resolve, async ({ ack, body, action, respond }) => {
    await ack();
    const parsed = parseIncidentValue(action.value);
    if (!parsed || parsed.suggestion) return void (await respond({ response_type: 'ephemeral', replace_original: false, text: NOT_OURS }));
    if (!ctx.incidents) return void (await respond({ response_type: 'ephemeral', replace_original: false, text: DISABLED }));
    const { reply } = await ctx.incidents.resolve(parsed.incidentId, body.user.id);
    if (!reply.ok) await respond({ response_type: 'ephemeral', replace_original: false, text: mentionIds(reply.text) });
  });
}
