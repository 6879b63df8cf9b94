import type { CheckResult, Deps } from '../types.js';

export interface Probe {
  readonly status: number | null;
  readonly ms: number;
  readonly error?: string;
}

/** One GET with its own deadline; never throws (a failed probe is evidence, not an exception). */
export async function probe(deps: Pick<Deps, 'fetch'>, url: string, timeoutMs = 5000, signal?: AbortSignal): Promise<Probe> {
  const started = performance.now();
  const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
  try {
    const res = await deps.fetch(url, { signal: AbortSignal.any(signals) });
    await res.arrayBuffer().catch(() => undefined);
    return { status: res.status, ms: Math.round(performance.now() - started) };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { status: null, ms: Math.round(performance.now() - started), error: e.cause?.code ?? e.name ?? 'error' };
  }
}

export function httpCheck(name: string, url: string, p: Probe): CheckResult {
  if (p.status === 200) return { name, status: 'ok', evidence: `GET ${url} → 200 in ${p.ms} ms` };
  return { name, status: 'fail', evidence: `GET ${url} → ${p.status ?? p.error ?? 'no answer'} after ${p.ms} ms` };
}
