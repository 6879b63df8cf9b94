import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HttpOptions {
  readonly port: number;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Bolt's request listener for `/slack/events` (HTTP mode only). */
  readonly slack?: RequestListener;
  readonly ready: () => Promise<Record<string, boolean>>;
  readonly routes?: Readonly<Record<string, Route>>;
  readonly gauges?: () => Promise<Record<string, number>>;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** One HTTP server: Slack events, liveness, readiness, metrics and whatever routes are added. */
export async function startHttp(o: HttpOptions): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const done = (p: void | Promise<void>) =>
      Promise.resolve(p).catch((err: unknown) => {
        o.log.error({ path, err: (err as Error).message }, 'http handler failed');
        if (!res.headersSent) json(res, 500, { error: 'internal error' });
      });
    if (path === '/slack/events' && o.slack) {
      o.metrics.inc('ml_rollback_slack_requests_total', 'Requests received from Slack');
      return void done(o.slack(req, res) as void);
    }
    if (path === '/health') return json(res, 200, { status: 'ok' });
    if (path === '/ready') {
      return void done(
        o.ready().then((checks) => json(res, Object.values(checks).every(Boolean) ? 200 : 503, { ready: Object.values(checks).every(Boolean), checks })),
      );
    }
    if (path === '/metrics') {
      return void done(
        (o.gauges?.() ?? Promise.resolve({})).then((g) => {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
          res.end(o.metrics.render(g));
        }),
      );
    }
    const route = o.routes?.[path];
    if (route) return void done(route(req, res));
    json(res, 404, { error: 'not found' });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  o.log.info({ port }, 'http server listening');
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
