import type { App } from '@slack/bolt';
import { registerActions } from './actions/index.js';
import { registerCommands } from './commands/index.js';
import type { HandlerContext } from './context.js';
import { registerIncidentHandlers } from './incidents/index.js';

export function registerHandlers(app: App, ctx: HandlerContext): void {
  registerCommands(app, ctx);
  registerActions(app, ctx);
  registerIncidentHandlers(app, ctx);
}
