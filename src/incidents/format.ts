import { STATE_LABEL } from '../requests/format.js';
import type { RequestRow } from '../store/store.js';
import type { IncidentView } from './notifier.js';
import { RESPONSE_LABEL } from './responseTime.js';
import { STATUS_LABEL } from './types.js';

const SOURCE: Record<string, string> = { human: 'declared by', health: 'declared by the health monitor', alert: 'declared from Alertmanager' };

const utc = (d: Date | string) => `${new Date(d).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

const stateLabel = (state: string) => STATE_LABEL[state as RequestRow['state']] ?? state;

/** The runbook's communication template, field by field (INCIDENT / STATUS / IMPACT / START / ETA / ACTIONS). */
export function templateFields(view: IncidentView): Array<[label: string, value: string]> {
  const i = view.incident;
  const actions = [
    ...(i.actions ? [i.actions] : []),
    ...view.requests.map((r) => `${r.id} ${r.title} — ${stateLabel(r.state)}`),
  ];
  return [
    ['INCIDENT', `ML-Analyze Service [${i.severity}]`],
    ['STATUS', STATUS_LABEL[i.status]],
    ['IMPACT', i.impact],
    ['START', utc(i.startedAt)],
    ['ETA', i.status === 'resolved' ? `resolved ${utc(i.resolvedAt ?? i.lastUpdateAt)}` : (i.eta ?? 'unknown')],
    ['ACTIONS', actions.length ? actions.join('\n') : 'none yet'],
  ];
}

export function incidentSummary(view: IncidentView): string {
  const i = view.incident;
  return `${i.id} · INCIDENT: ML-Analyze Service [${i.severity}] · ${STATUS_LABEL[i.status]} · ${i.impact.slice(0, 200)}`;
}

export function incidentFooter(view: IncidentView): string {
  const i = view.incident;
  const who = i.source === 'human' ? `${SOURCE.human} ${i.declaredBy}` : SOURCE[i.source];
  return `${i.id} · ${who} · response time ${RESPONSE_LABEL[i.severity]} · last update ${utc(i.lastUpdateAt)}`;
}
