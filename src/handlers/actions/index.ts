import type { App } from '@slack/bolt';
import type { HandlerContext } from '../context.js';
import { registerDecisionButtons } from './decide.js';

export function registerActions(app: App, ctx: HandlerContext): void {
  registerDecisionButtons(app, ctx);
}
