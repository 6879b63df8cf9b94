import { App, HTTPReceiver, SocketModeReceiver, type Authorize, type Receiver } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { RequestListener } from 'node:http';
import type { EnvConfig } from '../config/index.js';
import { AppError, ErrorCode } from '../errors.js';
import { registerHandlers } from '../handlers/index.js';
import type { HandlerContext } from '../handlers/context.js';
import type { Logger } from '../log.js';
import { boltLogger } from './boltLogger.js';
import { createWebClient } from './slackClient.js';

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
  const app = new App({ authorize: cachedAuthorize(slack.botToken, createWebClient(slack.botToken, slack.apiUrl)), receiver, logger, clientOptions, ignoreSelf: false });
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

/**
 * Bolt given a bare `token` with token verification off calls auth.test before *every* listener,
 * so each ack waited on a Web API round trip. The bot's identity does not change: ask once, on the
 * first request, and ask again only if that failed.
 */
function cachedAuthorize(botToken: string, client: WebClient): Authorize<boolean> {
  let identity: Promise<{ botId?: string; botUserId?: string }> | undefined;
  return async () => {
    identity ??= client.auth.test().then((r) => ({ ...(r.bot_id ? { botId: r.bot_id } : {}), ...(r.user_id ? { botUserId: r.user_id } : {}) }));
    try {
      return { botToken, ...(await identity) };
    } catch (err) {
      identity = undefined;
      throw err;
    }
  };
}
