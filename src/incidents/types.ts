import type { IncidentStatus, Severity } from '../rollback/command.js';

export type { IncidentStatus, Severity };
export type IncidentSource = 'human' | 'health' | 'alert';

export interface Incident {
  id: string;
  severity: Severity;
  status: IncidentStatus;
  impact: string;
  eta: string | null;
  actions: string | null;
  source: IncidentSource;
  declaredBy: string;
  channelId: string;
  messageTs: string | null;
  reminderJob: string | null;
  reminders: number;
  startedAt: Date;
  lastUpdateAt: Date;
  resolvedAt: Date | null;
  resolvedBy: string | null;
}

/** A rollback request made while the incident was open: listed under its ACTIONS. */
export interface LinkedRequest {
  id: string;
  title: string;
  state: string;
}

/** A procedure the announcement offers as a button; clicking it plans it as the clicking user. */
export interface SuggestedProcedure {
  readonly key: 'container' | 'verify';
  readonly label: string;
  readonly command: string;
}

export const SUGGESTED: readonly SuggestedProcedure[] = [
  { key: 'container', label: 'Plan container rollback', command: 'container' },
  { key: 'verify', label: 'Run health checks', command: 'verify' },
];

export const STATUS_LABEL: Record<IncidentStatus, string> = {
  investigating: 'Investigating',
  identified: 'Identified',
  resolved: 'Resolved',
};

export const SEVERITY_MEANING: Record<Severity, string> = {
  P1: 'Complete service outage',
  P2: 'Degraded performance',
  P3: 'Non-critical feature broken',
  P4: 'Minor issue',
};
