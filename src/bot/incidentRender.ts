import type { Button, KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import { button, escape } from './blocks.js';
import { incidentFooter, incidentSummary, templateFields } from '../incidents/format.js';
import type { IncidentView, TimelineNote } from '../incidents/notifier.js';
import { SUGGESTED, STATUS_LABEL, type Incident, type IncidentStatus } from '../incidents/types.js';
import { mentionIds, who } from './render.js';

/** Block Kit for incidents: the announcement (edited in place), timeline notes and the Update modal. */

export const INCIDENT_ACTIONS = {
  update: 'incident_update',
  resolve: 'incident_resolve',
  plan: 'incident_plan',
} as const;
export const UPDATE_MODAL = 'incident_update_modal';
/** Block ids of the Update modal; `response_action: errors` is keyed by them. */
export const MODAL_BLOCKS = { status: 'status', impact: 'impact', eta: 'eta', actions: 'actions' } as const;

const ICON: Record<IncidentStatus, string> = { investigating: '🔴', identified: '🟠', resolved: '✅' };
const SECTION_MAX = 2900;

const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);


/** The suggested procedures; the value names the incident and the procedure (`INC-3|container`). */
export function suggestionButtons(incidentId: string): Button[] {
  return SUGGESTED.map((s, i) => button(s.label, `${INCIDENT_ACTIONS.plan}_${s.key}`, `${incidentId}|${s.key}`, i === 0 ? 'primary' : undefined));
}

export function announcementText(view: IncidentView): string {
  return incidentSummary(view);
}

export function announcementBlocks(view: IncidentView): KnownBlock[] {
  const i = view.incident;
  const fields = templateFields(view)
    .map(([label, value]) => `*${label}:* ${label === 'ACTIONS' && value.includes('\n') ? `\n${value.split('\n').map((l) => `• ${escape(l)}`).join('\n')}` : escape(value)}`)
    .join('\n');
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`${ICON[i.status]} ${i.id} · INCIDENT: ML-Analyze Service [${i.severity}]`, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: clip(fields, SECTION_MAX) } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: clip(mentionIds(escape(incidentFooter(view))), 2000) }] },
  ];
  if (i.status !== 'resolved') {
    blocks.push({
      type: 'actions',
      // A fresh block id per revision: Slack keeps client state per block id.
      block_id: `incident_actions_${i.id}_${new Date(i.lastUpdateAt).getTime()}_${view.requests.length}`,
      elements: [
        button('Update', INCIDENT_ACTIONS.update, i.id, 'primary'),
        button('Resolve', INCIDENT_ACTIONS.resolve, i.id, undefined, `Resolve *${i.id}*? Reminders stop and the announcement is closed.`),
        ...suggestionButtons(i.id),
      ],
    });
  }
  return blocks;
}

export function timelineBlocks(incident: Incident, note: TimelineNote): KnownBlock[] | undefined {
  if (!note.offer || incident.status === 'resolved') return undefined;
  return [
    { type: 'section', text: { type: 'mrkdwn', text: clip(note.text, SECTION_MAX) } },
    { type: 'actions', block_id: `incident_offer_${incident.id}_${Date.now()}`, elements: suggestionButtons(incident.id) },
  ];
}

const option = (s: IncidentStatus): PlainTextOption => ({ text: { type: 'plain_text', text: STATUS_LABEL[s] }, value: s });

/** The Update modal, prefilled with the incident's current values. */
export function updateModal(i: Incident, channelId: string | undefined): ModalView {
  const input = (blockId: string, label: string, value: string | null, multiline: boolean, placeholder: string): KnownBlock => ({
    type: 'input',
    block_id: blockId,
    optional: true,
    label: { type: 'plain_text', text: label },
    element: {
      type: 'plain_text_input',
      action_id: blockId,
      multiline,
      max_length: 1000,
      placeholder: { type: 'plain_text', text: placeholder },
      ...(value ? { initial_value: clip(value, 1000) } : {}),
    },
  });
  return {
    type: 'modal',
    callback_id: UPDATE_MODAL,
    private_metadata: JSON.stringify({ incidentId: i.id, ...(channelId ? { channelId } : {}) }),
    title: { type: 'plain_text', text: clip(`Update ${i.id}`, 24) },
    submit: { type: 'plain_text', text: 'Update' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(`*${i.id}* · ML-Analyze Service [${i.severity}] · declared by ${who(i.declaredBy)}`, SECTION_MAX) } },
      {
        type: 'input',
        block_id: MODAL_BLOCKS.status,
        label: { type: 'plain_text', text: 'Status' },
        element: { type: 'static_select', action_id: MODAL_BLOCKS.status, initial_option: option(i.status), options: (['investigating', 'identified', 'resolved'] as const).map(option) },
      },
      input(MODAL_BLOCKS.impact, 'Impact', i.impact, true, 'Who is affected and how'),
      input(MODAL_BLOCKS.eta, 'ETA', i.eta, false, 'e.g. 30 min, 14:30 UTC'),
      input(MODAL_BLOCKS.actions, 'Actions', i.actions, true, 'Steps being taken'),
    ],
  };
}
