import { startHttp } from '../../src/bot/http.js';
import { incidentRoutes, slackIncidents } from '../../src/bot/incidentWiring.js';
import { createSlackEdge } from '../../src/bot/slackApp.js';
import { createWebClient } from '../../src/bot/slackClient.js';
import { SlackNotifier } from '../../src/bot/slackNotifier.js';
import type { Config } from '../../src/config/index.js';
import type { AlertmanagerPayload } from '../../src/incidents/alerts.js';
import { incidentThreadLookup } from '../../src/incidents/thread.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { BOT_TOKEN, SIGNING_SECRET } from '../support/bot.js';
import { createTestEnv, memoryLogger, type TestEnv } from '../support/env.js';
import { startFakeSlack, type FakeSlack, type FakeSlackCall } from '../support/fakeSlack.js';
import { blockActionsBody, postSigned, slashCommandBody, viewSubmissionBody, type SlashFields } from '../support/slackSign.js';

export const ALERT_TOKEN = 'alert-token-0123456789abcdef';
export const CHANNEL = 'C0FAKE0CH';

export interface IncidentBot {
  readonly env: TestEnv;
  readonly slack: FakeSlack;
  readonly runtime: Runtime;
  readonly config: Config;
  readonly url: string;
  readonly logs: string[];
  command(text: string, fields?: Partial<SlashFields>): Promise<{ status: number; body: string }>;
  click(actionId: string, value: string, userId: string, triggerId?: string): Promise<{ status: number; body: string }>;
  submitView(userId: string, callbackId: string, privateMetadata: string, values: Record<string, Record<string, unknown>>): Promise<{ status: number; body: string }>;
  postAlert(payload: unknown, o?: { token?: string | null; raw?: string }): Promise<{ status: number; body: string }>;
  /** The announcement (top-level message) of an incident, as last posted or edited. */
  announcements(): FakeSlackCall[];
  close(): Promise<void>;
}

/**
 * The bot as production wires it (src/cli.ts): HTTP mode, incidents announced through the fake
 * Slack, requests posted in the incident's thread, `/alerts` on the same server.
 */
export async function startIncidentBot(o: { file?: Record<string, unknown>; env?: Record<string, string>; monitor?: boolean; worker?: boolean; now?: () => Date } = {}): Promise<IncidentBot> {
  const env = await createTestEnv();
  const slack = await startFakeSlack();
  const { log, lines } = memoryLogger('info');
  const config = env.config(
    { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl, ALERT_WEBHOOK_TOKEN: ALERT_TOKEN, ...o.env },
    { channels: ['ml-analyze'], ...o.file },
  );
  const client = createWebClient(config.slack.botToken!, config.slack.apiUrl);
  const runtime = await createRuntime(config, log, {
    notifier: (store) => new SlackNotifier(client, store, log, config.progressIntervalMs, incidentThreadLookup(store)),
    runWorker: o.worker !== false,
    cancelPollMs: 100,
    maintenanceIntervalMs: 60_000,
    incidents: { ...slackIncidents(client, log, o.monitor === true), ...(o.now ? { now: o.now } : {}) },
  });
  const edge = createSlackEdge(config.slack, { service: runtime.service, log, incidents: runtime.incidents }, log);
  const http = await startHttp({
    port: 0, log, metrics: runtime.metrics, slack: edge.requestListener!, ready: () => runtime.ready(),
    routes: incidentRoutes(runtime, config.alertWebhookToken, log),
  });
  const url = `http://127.0.0.1:${http.port}`;
  let seq = 0;
  return {
    env, slack, runtime, config, url, logs: lines,
    command: (text, fields = {}) => postSigned(`${url}/slack/events`, SIGNING_SECRET, slashCommandBody({ text, response_url: slack.responseUrl(`cmd${++seq}`), ...fields })),
    click: (actionId, value, userId, triggerId) =>
      postSigned(`${url}/slack/events`, SIGNING_SECRET, blockActionsBody({ userId, actionId, value, responseUrl: slack.responseUrl(`click${++seq}`), ...(triggerId ? { triggerId } : {}) })),
    submitView: (userId, callbackId, privateMetadata, values) => postSigned(`${url}/slack/events`, SIGNING_SECRET, viewSubmissionBody({ userId, callbackId, privateMetadata, values })),
    postAlert: async (payload, a = {}) => {
      const token = a.token === undefined ? ALERT_TOKEN : a.token;
      const res = await fetch(`${url}/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token !== null ? { authorization: `Bearer ${token}` } : {}) },
        body: a.raw ?? JSON.stringify(payload),
      });
      return { status: res.status, body: await res.text() };
    },
    announcements: () => slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.body.thread_ts && String(c.body.text ?? '').includes('INCIDENT')),
    close: async () => {
      await http.close();
      await runtime.close();
      await slack.close();
      await env.cleanup();
    },
  };
}

/** Alertmanager's documented version-4 payload (formats §5), for one of the runbook's alerts. */
export function alertPayload(o: { status: 'firing' | 'resolved'; alertname?: string; groupKey?: string; labels?: Record<string, string>; summary?: string; fingerprint?: string }): AlertmanagerPayload {
  const alertname = o.alertname ?? 'MLAnalyzeHighErrorRate';
  const labels = { alertname, service: 'ml-analyze', team: 'ml', instance: 'ml-analyze-7d9f-abcde:8001', ...o.labels };
  const summary = o.summary ?? 'error rate above 5%';
  return {
    version: '4',
    groupKey: o.groupKey ?? `{}/{team="ml"}:{alertname="${alertname}", service="ml-analyze"}`,
    truncatedAlerts: 0,
    status: o.status,
    receiver: 'ml-chatops',
    groupLabels: { alertname, service: 'ml-analyze' },
    commonLabels: labels,
    commonAnnotations: { summary, runbook_url: 'https://runbooks.example.internal/ml/rollback' },
    externalURL: 'http://alertmanager.example.internal:9093',
    alerts: [
      {
        status: o.status,
        labels,
        annotations: { summary, description: `${summary} for 10m on ml-analyze-7d9f-abcde` },
        startsAt: '2026-01-01T00:05:00.000Z',
        endsAt: o.status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-01-01T00:41:30.000Z',
        generatorURL: 'http://prometheus.example.internal:9090/graph?g0.expr=rate%28...%29&g0.tab=1',
        fingerprint: o.fingerprint ?? '5c1e9a0b7d3f2e41',
      },
    ],
  };
}

/** Waits for a condition on state the test cannot subscribe to (Postgres rows), checking often. */
export async function until<T>(fn: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
