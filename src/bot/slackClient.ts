import { ErrorCode as WebErrorCode, WebClient, type WebAPICallResult } from '@slack/web-api';
import type { Logger } from '../log.js';
import { redact } from '../redact.js';

/**
 * The Web API client with the SDK's own retry policy off (it would retry silently for up to half
 * an hour): we see every 429 and decide. `SLACK_API_URL` is honoured for every call.
 */
export function createWebClient(token: string, apiUrl?: string): WebClient {
  return new WebClient(token, {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: 10_000,
  });
}

export class RateLimited extends Error {
  constructor(readonly retryAfterMs: number) {
    super(`rate limited for ${retryAfterMs} ms`);
  }
}

/**
 * Slack limits each method across the workspace, and one process serves one workspace: once a call
 * of a method is answered 429, every other call of that method waits out the same Retry-After.
 */
const limitedUntil = new Map<string, number>();

/** One call; a 429 (or a method still inside its Retry-After) becomes RateLimited with the wait. */
export async function call<T extends WebAPICallResult>(fn: () => Promise<T>, method?: string): Promise<T> {
  const wait = method ? (limitedUntil.get(method) ?? 0) - Date.now() : 0;
  if (wait > 0) throw new RateLimited(wait);
  try {
    return await fn();
  } catch (err) {
    const e = err as { code?: string; retryAfter?: number };
    if (e.code === WebErrorCode.RateLimitedError) {
      const ms = Math.max(1, e.retryAfter ?? 1) * 1000;
      if (method) limitedUntil.set(method, Math.max(limitedUntil.get(method) ?? 0, Date.now() + ms));
      throw new RateLimited(ms);
    }
    throw err;
  }
}

/** For messages that must arrive (final states): waits out 429s, a bounded number of times. */
export async function deliver<T extends WebAPICallResult>(fn: () => Promise<T>, log: Logger, what: string, method?: string, attempts = 6): Promise<T | undefined> {
  for (let i = 0; i < attempts; i++) {
    try {
      return await call(fn, method);
    } catch (err) {
      if (err instanceof RateLimited) {
        log.warn({ what, retryAfterMs: err.retryAfterMs }, 'Slack rate limit; waiting Retry-After');
        await new Promise((r) => setTimeout(r, err.retryAfterMs));
        continue;
      }
      const e = err as { data?: { error?: string }; message?: string };
      log.error({ what, err: redact(e.data?.error ?? e.message ?? String(err)) }, 'Slack call failed');
      return undefined;
    }
  }
  log.error({ what }, 'Slack call still rate limited; giving up');
  return undefined;
}
