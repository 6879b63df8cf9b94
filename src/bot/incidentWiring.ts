import type { WebClient } from '@slack/web-api';
import { alertsRoute } from '../incidents/webhook.js';
import type { Logger } from '../log.js';
import type { Runtime } from '../runtime.js';
import type { Route } from './http.js';
import { SlackIncidentNotifier } from './slackIncidentNotifier.js';

/** Incidents in Slack: announcements through the Web client; the monitor runs where workers run. */
export function slackIncidents(client: WebClient, log: Logger, monitor: boolean) {
  return { notifier: () => new SlackIncidentNotifier(client, log), monitor };
}

/** The routes the bot's HTTP server adds for incidents: Alertmanager's webhook. */
export function incidentRoutes(rt: Pick<Runtime, 'alerts'>, token: string | undefined, log: Logger): Record<string, Route> {
  if (!token) log.warn('ALERT_WEBHOOK_TOKEN is not set: POST /alerts refuses every request (401)');
  return { '/alerts': alertsRoute({ token, intake: rt.alerts, log }) };
}
