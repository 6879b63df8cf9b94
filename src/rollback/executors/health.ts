import { AppError, ErrorCode } from '../../errors.js';
import type { CheckResult, Executor, StepContext } from '../types.js';
import { httpCheck, probe } from './http.js';

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });

/**
 * Polls a /health URL until it answers 200 or the wait ends. A service that does not come back
 * fails the step with the answers it gave, so the thread shows why.
 */
export const waitHealthy: Executor = async (params, ctx) => {
  const url = String(params.url);
  const waitMs = typeof params.waitMs === 'number' ? params.waitMs : 60_000;
  const intervalMs = typeof params.intervalMs === 'number' ? params.intervalMs : 1000;
  const deadline = Date.now() + waitMs;
  const seen: string[] = [];
  for (let attempt = 1; ; attempt++) {
    const p = await probe(ctx, url, Math.min(5000, waitMs), ctx.signal);
    if (p.status === 200) return { summary: `GET ${url} → 200 after ${attempt} ${attempt === 1 ? 'try' : 'tries'} (${p.ms} ms)` };
    seen.push(`#${attempt}: ${p.status ?? p.error ?? 'no answer'}`);
    if (attempt % 5 === 0) ctx.progress(`${url} not healthy yet (${seen.slice(-1)[0]})`);
    if (ctx.signal.aborted || Date.now() + intervalMs > deadline) break;
    await sleep(intervalMs, ctx.signal);
  }
  const evidence = seen.slice(-5).join(', ');
  throw new AppError(ErrorCode.StepFailed, `${String(params.name ?? url)} did not become healthy within ${Math.round(waitMs / 1000)} s: GET ${url} answered ${evidence}`, { tail: evidence });
};

async function dbCheck(ctx: StepContext): Promise<CheckResult> {
  const t = performance.now();
  try {
    await ctx.db.query('SELECT 1');
    return { name: 'SELECT 1', status: 'ok', evidence: `SELECT 1 in ${Math.round(performance.now() - t)} ms` };
  } catch (err) {
    return { name: 'SELECT 1', status: 'fail', evidence: `SELECT 1 failed: ${(err as Error).message}` };
  }
}

async function redisCheck(ctx: StepContext): Promise<CheckResult> {
  const t = performance.now();
  try {
    return { name: 'Redis PING', status: 'ok', evidence: `PING → ${await ctx.redis.ping()} in ${Math.round(performance.now() - t)} ms` };
  } catch (err) {
    return { name: 'Redis PING', status: 'fail', evidence: `PING failed: ${(err as Error).message}` };
  }
}

/**
 * The gate between the steps of a full rollback: the services that must stay up while ML-Analyze
 * is rolled back (bun-api, frontend), the database and Redis. Any failure stops the run here.
 */
export const healthGate: Executor = async (params, ctx) => {
  const urls = Array.isArray(params.urls) ? (params.urls as Array<{ name: string; url: string }>) : [];
  const probes = await Promise.all(urls.map(async (u) => httpCheck(u.name, u.url, await probe(ctx, u.url, 5000, ctx.signal))));
  const checks = [...probes, await dbCheck(ctx), await redisCheck(ctx)];
  const failed = checks.filter((c) => c.status === 'fail');
  return {
    summary: failed.length ? `health gate failed: ${failed.map((c) => `${c.name} (${c.evidence})`).join('; ')}` : `health gate passed: ${checks.map((c) => c.name).join(', ')}`,
    checks,
    ...(failed.length ? { failed: true } : {}),
  };
};
