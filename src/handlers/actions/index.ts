import type { App } from '@slack/bolt';
import type { HandlerContext } from '../context.js';
import { registerDecisionButtons } from './decide.js';
import { registerReplanButton } from './replan.js';

export function registerActions(app: App, ctx: HandlerContext): void {
  registerDecisionButtons(app, ctx);
  registerReplanButton(app, ctx);
}
