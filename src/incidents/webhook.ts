import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { coerceError } from '../errors.js';
import type { Logger } from '../log.js';
import type { AlertIntake } from './alertIntake.js';
import { AlertmanagerPayloadSchema } from './alerts.js';

export const ALERT_BODY_LIMIT = 256 * 1024;

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

/** Compares digests, so neither the content nor the length of the token leaks through timing. */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && presented.length === expected.length;
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

type Body = { ok: true; text: string } | { ok: false; status: number; error: string };

function readLimited(req: IncomingMessage, limit: number): Promise<Body> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.resolve({ ok: false, status: 413, error: `body over ${limit} bytes` });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) {
        done = true;
        resolve({ ok: false, status: 413, error: `body over ${limit} bytes` });
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!done) resolve({ ok: true, text: Buffer.concat(chunks).toString('utf8') });
      done = true;
    });
    req.on('error', (err) => {
      if (!done) resolve({ ok: false, status: 400, error: err.message });
      done = true;
    });
  });
}

/**
 * `POST /alerts`: Alertmanager's webhook (payload version 4). Authenticated by a bearer token
 * (refused when none is configured: an open endpoint could declare incidents); the body is
 * size-limited and fully validated before anything changes. Non-2xx makes Alertmanager retry,
 * so only our own failures answer 5xx.
 */
export function alertsRoute(o: { token: string | undefined; intake: AlertIntake; log: Logger; limit?: number }) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const close = { connection: 'close' };
    if (req.method !== 'POST') return json(res, 405, { error: 'POST an Alertmanager webhook payload' }, { allow: 'POST' });
    const presented = bearer(req);
    if (!o.token || presented === undefined || !tokenMatches(presented, o.token)) {
      o.log.warn({ configured: Boolean(o.token), presented: presented !== undefined }, 'alerts webhook: refused (bad or missing bearer token)');
      req.resume();
      return json(res, 401, { error: o.token ? 'bad or missing bearer token' : 'ALERT_WEBHOOK_TOKEN is not configured on the bot' }, { 'www-authenticate': 'Bearer', ...close });
    }
    const body = await readLimited(req, o.limit ?? ALERT_BODY_LIMIT);
    if (!body.ok) {
      req.resume();
      return json(res, body.status, { error: body.error }, close);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(body.text);
    } catch {
      return json(res, 400, { error: 'body is not JSON' });
    }
    const parsed = AlertmanagerPayloadSchema.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      return json(res, 400, { error: 'not an Alertmanager webhook payload', issues });
    }
    try {
      const outcome = await o.intake.receive(parsed.data);
      json(res, 200, { ok: true, ...outcome });
    } catch (err) {
      const e = coerceError(err);
      o.log.error({ err: e.message, code: e.code }, 'alerts webhook failed; Alertmanager will retry');
      json(res, 500, { error: 'could not record the alert; Alertmanager will retry' });
    }
  };
}
