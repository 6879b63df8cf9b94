import type { App } from '@slack/bolt';
import type { HandlerContext } from '../context.js';
import { registerIncidentButtons } from './buttons.js';
import { registerSuggestionButtons } from './suggest.js';
import { registerUpdateModal } from './updateModal.js';

export function registerIncidentHandlers(app: App, ctx: HandlerContext): void {
  registerIncidentButtons(app, ctx);
  registerSuggestionButtons(app, ctx);
  registerUpdateModal(app, ctx);
}
