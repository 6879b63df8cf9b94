import type { MessageRef } from '../requests/notifier.js';
import type { Incident, LinkedRequest } from './types.js';

export interface IncidentView {
  readonly incident: Incident;
  readonly requests: readonly LinkedRequest[];
}

/** A timeline entry posted in the incident's thread; `offer` adds the suggested-procedure buttons. */
export interface TimelineNote {
  readonly text: string;
  readonly offer?: boolean;
  readonly broadcast?: boolean;
}

/**
 * How incidents reach people. The announcement is the incident's home (edited in place); its
 * thread is the timeline. Implementations must not throw: a chat outage never loses an incident.
 */
export interface IncidentNotifier {
  announce(view: IncidentView): Promise<MessageRef | undefined>;
  refresh(view: IncidentView): Promise<void>;
  timeline(incident: Incident, note: TimelineNote): Promise<void>;
}

export const silentIncidentNotifier: IncidentNotifier = {
  announce: async () => undefined,
  refresh: async () => undefined,
  timeline: async () => undefined,
};
