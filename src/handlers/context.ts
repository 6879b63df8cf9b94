import type { IncidentService } from '../incidents/service.js';
import type { Logger } from '../log.js';
import type { RequestService } from '../requests/service.js';

/** What every Slack listener gets: the Slack-free service and a logger. */
export interface HandlerContext {
  readonly service: RequestService;
  readonly log: Logger;
  /** Incident buttons and the Update modal; absent, they answer that incidents are not enabled. */
  readonly incidents?: IncidentService;
}
