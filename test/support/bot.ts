import { startHttp } from '../../src/bot/http.js';
import { createSlackEdge } from '../../src/bot/slackApp.js';
import { createWebClient } from '../../src/bot/slackClient.js';
import { SlackNotifier } from '../../src/bot/slackNotifier.js';
import type { Config } from '../../src/config/index.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import type { RequestRow } from '../../src/store/store.js';
import { createTestEnv, memoryLogger, type TestEnv } from './env.js';
import { startFakeSlack, type FakeSlack } from './fakeSlack.js';
import { blockActionsBody, postSigned, slashCommandBody, type SlashFields } from './slackSign.js';

export const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
export const BOT_TOKEN = 'xoxb-0000-test-token-do-not-leak';

export interface TestBot {
  readonly env: TestEnv;
  readonly slack: FakeSlack;
  readonly runtime: Runtime;
  readonly config: Config;
  readonly url: string;
  readonly logs: string[];
  /** Sends `/ml-rollback TEXT` as Slack would (signed form post). */
  command(text: string, fields?: Partial<SlashFields>): Promise<{ status: number; body: string; ms: number }>;
  /** Clicks a button as Slack would (signed block_actions payload). */
  click(actionId: string, value: string, userId: string): Promise<{ status: number; body: string; ms: number }>;
  /** Resolves when the request reaches one of the states (event-driven through the fake Slack's calls). */
  waitForState(requestId: string, states: RequestRow['state'][], timeoutMs?: number): Promise<RequestRow>;
  close(): Promise<void>;
}

/**
 * The bot in HTTP mode, in this process, against real Postgres and Redis and a fake Slack Web API:
 * Bolt's signature check, the handlers, the service, the queue and a worker, all real.
 */
export async function startTestBot(o: { worker?: boolean; file?: unknown; env?: Record<string, string> } = {}): Promise<TestBot> {
  const env = await createTestEnv();
  const slack = await startFakeSlack();
  const { log, lines } = memoryLogger('info');
  const config = env.config({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl, ...o.env }, o.file);
  const client = createWebClient(config.slack.botToken!, config.slack.apiUrl);
  const runtime = await createRuntime(config, log, {
    notifier: (store) => new SlackNotifier(client, store, log, config.progressIntervalMs),
    runWorker: o.worker !== false,
    cancelPollMs: 100,
    maintenanceIntervalMs: 60_000,
  });
  const edge = createSlackEdge(config.slack, { service: runtime.service, log }, log);
  const http = await startHttp({ port: 0, log, metrics: runtime.metrics, slack: edge.requestListener!, ready: () => runtime.ready() });
  const url = `http://127.0.0.1:${http.port}`;
  let seq = 0;
  const bot: TestBot = {
    env,
    slack,
    runtime,
    config,
    url,
    logs: lines,
    command: (text, fields = {}) =>
      postSigned(`${url}/slack/events`, SIGNING_SECRET, slashCommandBody({ text, response_url: slack.responseUrl(`cmd${++seq}`), ...fields })),
    click: (actionId, value, userId) =>
      postSigned(`${url}/slack/events`, SIGNING_SECRET, blockActionsBody({ userId, actionId, value, responseUrl: slack.responseUrl(`click${++seq}`) })),
    waitForState: async (requestId, states, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const req = await runtime.store.getRequest(requestId);
        if (req && states.includes(req.state)) return req;
        if (Date.now() > deadline) throw new Error(`${requestId} did not reach ${states.join('|')} (now ${req?.state ?? 'missing'})`);
        // Every state change is announced in Slack: wait for the next Web API call, not a timer.
        const seen = slack.calls.length;
        await slack.waitFor((c) => slack.calls.indexOf(c) >= seen, Math.max(100, deadline - Date.now())).catch(() => undefined);
      }
    },
    close: async () => {
      await http.close();
      await runtime.close();
      await slack.close();
      await env.cleanup();
    },
  };
  return bot;
}
