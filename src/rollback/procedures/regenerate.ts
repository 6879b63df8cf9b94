import type { Deps, Plan } from '../types.js';
import { plural, seconds } from './common.js';
import { probe } from '../executors/http.js';

export async function planRegenerate(deps: Deps, limit: number): Promise<Plan> {
  const url = deps.serviceUrls.mlAnalyze;
  const health = await probe(deps, `${url}/health`, 3000);
  const { rows } = await deps.db.query<{ n: string }>("SELECT CASE WHEN to_regclass('public.product_embeddings') IS NULL THEN -1 ELSE (SELECT count(*) FROM product_embeddings) END AS n").catch(() => ({ rows: [{ n: '-1' }] }));
  const n = Number(rows[0]?.n ?? -1);
  const timeoutSeconds = Math.max(60, Math.min(3600, deps.config.steps.timeoutSeconds));
  return {
    procedure: 'regenerate',
    args: { limit },
    title: `Regenerate embeddings (limit ${limit})`,
    risk: 'reversible',
    steps: [
      {
        id: 'regenerate', kind: 'regenerate', title: `POST /analyze/merge {"limit": ${limit}} and follow the job`, risk: 'reversible', idempotent: false,
        timeoutMs: seconds(timeoutSeconds), params: { url, limit, pollMs: 1000 },
        shows: [`POST ${url}/analyze/merge {"limit": ${limit}}`, `GET ${url}/analyze/status/{job_id} every 1 s until completed or failed (up to ${timeoutSeconds} s)`],
      },
    ],
    preview: [
      { label: 'ML-Analyze', value: `GET ${url}/health → ${health.status ?? health.error ?? 'no answer'}` },
      { label: 'Embeddings now', value: n < 0 ? 'product_embeddings does not exist' : plural(n, 'embedding') },
    ],
    notes: [],
  };
}
