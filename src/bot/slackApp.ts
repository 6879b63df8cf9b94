import { App, HTTPReceiver, SocketModeReceiver, type Receiver } from '@slack/bolt';
import type { RequestListener } from 'node:http';
import type { EnvConfig } from '../config/index.js';
import { AppError, ErrorCode } from '../errors.js';
import { registerHandlers } from '../handlers/index.js';
import type { HandlerContext } from '../handlers/context.js';
import type { Logger } from '../log.js';
import { boltLogger } from './boltLogger.js';

export interface SlackEdge {
  readonly app: App;
  /** Present in HTTP mode: mount on `/slack/events`. */
  readonly requestListener?: RequestListener;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Bolt, wired for either transport. HTTP mode (the production default) verifies Slack's signature
 * on every request; Socket Mode is for installations that cannot expose a URL.
 */
export function createSlackEdge(slack: EnvConfig['slack'], ctx: HandlerContext, log: Logger): SlackEdge {
  if (!slack.botToken) throw new AppError(ErrorCode.Config, 'SLACK_BOT_TOKEN is required for Slack mode');
  const logger = boltLogger(log);
  const clientOptions = slack.apiUrl ? { slackApiUrl: slack.apiUrl } : {};
  let receiver: Receiver;
  let requestListener: RequestListener | undefined;
  if (slack.mode === 'socket') {
    receiver = new SocketModeReceiver({ appToken: slack.appToken!, logger, installerOptions: { clientOptions } });
  } else {
    if (!slack.signingSecret) throw new AppError(ErrorCode.Config, 'SLACK_SIGNING_SECRET is required in HTTP mode');
    const http = new HTTPReceiver({ signingSecret: slack.signingSecret, endpoints: '/slack/events', logger, processBeforeResponse: false, unhandledRequestTimeoutMillis: 2500 });
    receiver = http;
    requestListener = http.requestListener;
  }
  const app = new App({ token: slack.botToken, receiver, logger, clientOptions, tokenVerificationEnabled: false, ignoreSelf: false });
  app.error(async (err) => {
    log.error({ err: err.message, code: (err as { code?: string }).code }, 'slack listener error');
  });
  registerHandlers(app, ctx);
  return {
    app,
    ...(requestListener ? { requestListener } : {}),
    start: async () => {
      if (slack.mode === 'socket') await app.start();
    },
    stop: async () => {
      if (slack.mode === 'socket') await app.stop();
    },
  };
}
