import type { App } from '@slack/bolt';
import type { HandlerContext } from '../context.js';
import { registerMlRollback } from './mlRollback.js';

export function registerCommands(app: App, ctx: HandlerContext): void {
  registerMlRollback(app, ctx);
}
