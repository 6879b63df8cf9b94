import type { MessageRef } from '../requests/notifier.js';
import type { Store } from '../store/store.js';
import { IncidentStore } from './store.js';

/** Where an incident's announcement is, for posting its requests in the thread (null until announced). */
export function incidentThreadLookup(store: Store): (incidentId: string) => Promise<MessageRef | null> {
  const istore = new IncidentStore(store);
  return async (incidentId) => {
    const inc = await istore.get(incidentId);
    return inc?.messageTs ? { channelId: inc.channelId, ts: inc.messageTs } : null;
  };
}
