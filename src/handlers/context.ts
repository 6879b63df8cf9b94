import type { Logger } from '../log.js';
import type { RequestService } from '../requests/service.js';

/** What every Slack listener gets: the Slack-free service and a logger. */
export interface HandlerContext {
  readonly service: RequestService;
  readonly log: Logger;
}
