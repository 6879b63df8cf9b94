import { coerceError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Notifier } from '../requests/notifier.js';
import type { RequestRow } from '../store/store.js';

/**
 * Rollbacks belong to incidents: a request made while one was open is listed under its ACTIONS,
 * so every change of that request (planned, decided, finished) re-renders the announcement.
 */
export function withIncidents(inner: Notifier, changed: (incidentId: string, req: RequestRow, what: string) => Promise<void>, log: Logger): Notifier {
  const tell = async (req: RequestRow, what: string) => {
    if (!req.incidentId) return;
    await changed(req.incidentId, req, what).catch((err: unknown) => log.warn({ requestId: req.id, incidentId: req.incidentId, err: coerceError(err).message }, 'could not update the incident'));
  };
  return {
    planned: async (req) => {
      const ref = await inner.planned(req);
      await tell(req, 'planned');
      return ref;
    },
    decided: async (req, event) => {
      await inner.decided(req, event);
      await tell(req, event.kind);
    },
    progress: (req, steps, line) => inner.progress(req, steps, line),
    finished: async (req, steps) => {
      await inner.finished(req, steps);
      await tell(req, 'finished');
    },
  };
}
