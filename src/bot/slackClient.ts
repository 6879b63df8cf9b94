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

/** One call; a 429 becomes RateLimited with its Retry-After. */
export async function call<T extends WebAPICallResult>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err as { code?: string; retryAfter?: number };
    if (e.code === WebErrorCode.RateLimitedError) throw new RateLimited(Math.max(1, e.retryAfter ?? 1) * 1000);
    throw err;
  }
}

/** For messages that must arrive (final states): waits out 429s, a bounded number of times. */
export async function deliver<T extends WebAPICallResult>(fn: () => Promise<T>, log: Logger, what: string, attempts = 6): Promise<T | undefined> {
  for (let i = 0; i < attempts; i++) {
    try {
      return await call(fn);
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
