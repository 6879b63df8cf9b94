import type { RequestRow, StepRunRow } from '../store/store.js';

/** A request's home in chat: where the plan was posted and its thread. */
export interface MessageRef {
  readonly channelId: string;
  readonly ts: string;
  /** Set when the message was posted as a reply (a request in an incident's thread): its thread. */
  readonly threadTs?: string;
}

export type DecisionEvent =
  | { kind: 'approval-recorded'; by: string; remaining: number }
  | { kind: 'approved'; by: string; emergency?: string }
  | { kind: 'rejected'; by: string }
  | { kind: 'cancelled'; by: string }
  | { kind: 'cancel-requested'; by: string }
  | { kind: 'expired' }
  | { kind: 'retry'; by: string; fromStep: number }
  | { kind: 'aborted'; by: string }
  | { kind: 'skipped'; by: string; step: number };

/**
 * How the request lifecycle reaches people. The core speaks only this interface; `src/bot`
 * implements it for Slack and for the console. Implementations must not throw: a chat outage
 * never stops a rollback.
 */
export interface Notifier {
  /** Post the plan (with buttons when it awaits approval); returns where it was posted. */
  planned(req: RequestRow): Promise<MessageRef | undefined>;
  decided(req: RequestRow, event: DecisionEvent): Promise<void>;
  /** Step progress; implementations coalesce. `line` is an optional in-step note. */
  progress(req: RequestRow, steps: ReadonlyMap<number, StepRunRow>, line?: string): Promise<void>;
  /** The final state: always delivered, after any pending progress. */
  finished(req: RequestRow, steps: ReadonlyMap<number, StepRunRow>): Promise<void>;
}

/** For processes that have nobody to tell (and for tests that do not care). */
export const silentNotifier: Notifier = {
  planned: async () => undefined,
  decided: async () => undefined,
  progress: async () => undefined,
  finished: async () => undefined,
};
