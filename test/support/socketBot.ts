import { createSlackEdge, type SlackEdge } from '../../src/bot/slackApp.js';
import { createWebClient } from '../../src/bot/slackClient.js';
import { SlackNotifier } from '../../src/bot/slackNotifier.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { BOT_TOKEN } from './bot.js';
import { createTestEnv, memoryLogger, type TestEnv } from './env.js';
import { startFakeSlack, type FakeSlack } from './fakeSlack.js';
import { startFakeSocketMode, type FakeSocket } from './fakeSocketMode.js';

export const APP_TOKEN = 'xapp-1-A0FAKEAPP-0000-test-app-token';

export interface SocketBot {
  readonly env: TestEnv;
  readonly slack: FakeSlack;
  readonly socket: FakeSocket;
  readonly runtime: Runtime;
  readonly edge: SlackEdge;
  readonly logs: string[];
  close(): Promise<void>;
}

/**
 * The bot in Socket Mode (SLACK_APP_TOKEN set), in this process: apps.connections.open on the fake
 * Web API hands out the fake WebSocket, which then delivers envelopes.
 */
export async function startSocketBot(o: { worker?: boolean } = {}): Promise<SocketBot> {
  const env = await createTestEnv();
  const socket = await startFakeSocketMode();
  const slack = await startFakeSlack({ socketUrl: socket.url });
  const { log, lines } = memoryLogger('info');
  const config = env.config({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: slack.apiUrl });
  if (config.slack.mode !== 'socket') throw new Error(`expected Socket Mode, got ${config.slack.mode}`);
  const client = createWebClient(config.slack.botToken!, config.slack.apiUrl);
  const runtime = await createRuntime(config, log, {
    notifier: (store) => new SlackNotifier(client, store, log, config.progressIntervalMs),
    runWorker: o.worker !== false,
    cancelPollMs: 100,
    maintenanceIntervalMs: 60_000,
  });
  const edge = createSlackEdge(config.slack, { service: runtime.service, log }, log);
  await edge.start();
  await socket.waitForConnection();
  return {
    env,
    slack,
    socket,
    runtime,
    edge,
    logs: lines,
    close: async () => {
      // The client first: one that sees the server go away reconnects.
      await edge.stop();
      await socket.close();
      await runtime.close();
      await slack.close();
      await env.cleanup();
    },
  };
}
