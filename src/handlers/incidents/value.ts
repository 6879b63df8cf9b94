import { INCIDENT_ID_RE } from '../../rollback/command.js';
import { SUGGESTED, type SuggestedProcedure } from '../../incidents/types.js';

export const NOT_OURS = 'That button is not one of ml-rollback\'s; nothing changed.';
export const DISABLED = 'Incidents are not enabled in this installation; nothing changed.';

/** Incident button values are `INC-N`, or `INC-N|procedure` for a suggested procedure; nothing else. */
export function parseIncidentValue(value: string | undefined): { incidentId: string; suggestion?: SuggestedProcedure } | undefined {
  const [id, key, ...rest] = (value ?? '').split('|');
  if (!id || !INCIDENT_ID_RE.test(id) || rest.length) return undefined;
  if (key === undefined) return { incidentId: id };
  const suggestion = SUGGESTED.find((s) => s.key === key);
  return suggestion ? { incidentId: id, suggestion } : undefined;
}
