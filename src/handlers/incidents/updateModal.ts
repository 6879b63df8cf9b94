import type { App, ViewSubmitAction } from '@slack/bolt';
import { MODAL_BLOCKS, UPDATE_MODAL } from '../../bot/incidentRender.js';
import { coerceError } from '../../errors.js';
import type { IncidentPatch } from '../../incidents/store.js';
import type { IncidentStatus } from '../../incidents/types.js';
import { INCIDENT_ID_RE } from '../../rollback/command.js';
import type { HandlerContext } from '../context.js';

const STATUSES: readonly IncidentStatus[] = ['investigating', 'identified', 'resolved'];

type Values = ViewSubmitAction['view']['state']['values'];

/** The modal's inputs as a patch; an empty optional input means "leave as is". */
export function patchFromModal(values: Values): { patch: IncidentPatch; errors: Record<string, string> } {
  const text = (block: string) => {
    const v = values[block]?.[block]?.value;
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
  };
  const errors: Record<string, string> = {};
  const selected = values[MODAL_BLOCKS.status]?.[MODAL_BLOCKS.status]?.selected_option?.value;
  if (selected !== undefined && !(STATUSES as readonly string[]).includes(selected)) errors[MODAL_BLOCKS.status] = 'choose Investigating, Identified or Resolved';
  const patch: IncidentPatch = {
    ...(selected && !errors[MODAL_BLOCKS.status] ? { status: selected as IncidentStatus } : {}),
    ...(text(MODAL_BLOCKS.impact) ? { impact: text(MODAL_BLOCKS.impact)! } : {}),
    ...(text(MODAL_BLOCKS.eta) ? { eta: text(MODAL_BLOCKS.eta)! } : {}),
    ...(text(MODAL_BLOCKS.actions) ? { actions: text(MODAL_BLOCKS.actions)! } : {}),
  };
  return { patch, errors };
}

/**
 * The Update modal's submit. Validation (a database read) finishes inside Slack's 3 s and comes
 * back as `response_action: errors` under the offending input; the change is applied after the ack.
 */
export function registerUpdateModal(app: App, ctx: HandlerContext): void {
  app.view<ViewSubmitAction>(UPDATE_MODAL, async ({ ack, body, view, client }) => {
    let meta: { incidentId?: unknown; channelId?: unknown } = {};
    try {
      meta = JSON.parse(view.private_metadata || '{}') as typeof meta;
    } catch {
      // Forged or truncated metadata: refused below like a missing id.
    }
    const incidentId = typeof meta.incidentId === 'string' && INCIDENT_ID_RE.test(meta.incidentId) ? meta.incidentId : undefined;
    const { patch, errors } = patchFromModal(view.state.values);
    if (!incidentId || !ctx.incidents) {
      await ack({ response_action: 'errors', errors: { [MODAL_BLOCKS.status]: ctx.incidents ? 'This form does not name an incident; open it again from the announcement.' : 'Incidents are not enabled.' } });
      return;
    }
    for (const [field, message] of Object.entries(ctx.incidents.validate(patch))) errors[field] = message;
    const inc = await ctx.incidents.get(incidentId);
    if (!inc) errors[MODAL_BLOCKS.status] = `There is no incident ${incidentId}.`;
    else if (inc.status === 'resolved') errors[MODAL_BLOCKS.status] = `${incidentId} is already resolved; declare a new incident if it is back.`;
    if (Object.keys(errors).length) {
      await ack({ response_action: 'errors', errors });
      return;
    }
    await ack();
    const { reply } = await ctx.incidents.update(incidentId, patch, body.user.id);
    if (!reply.ok && typeof meta.channelId === 'string') {
      await client.chat
        .postEphemeral({ channel: meta.channelId, user: body.user.id, text: reply.text })
        .catch((err: unknown) => ctx.log.warn({ incidentId, err: coerceError(err).message }, 'could not tell the user the update failed'));
    }
  });
}
