import { AppError, ErrorCode } from '../../errors.js';
import type { Executor } from '../types.js';

interface Status {
  status?: string;
  progress?: number;
  processed?: number;
  total?: number;
  error?: string;
  detail?: string;
}

/**
 * POST /analyze/merge {limit}, then follows /analyze/status/{job_id} until the job completes or fails,
 * reporting progress in the thread. The step's own timeout ends the wait.
 */
export const regenerate: Executor = async (params, ctx) => {
  const base = String(params.url);
  const pollMs = typeof params.pollMs === 'number' ? params.pollMs : 2000;
  const res = await ctx.fetch(`${base}/analyze/merge`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ limit: params.limit }),
    signal: ctx.signal,
  });
  const started = (await res.json().catch(() => ({}))) as { job_id?: string; detail?: string };
  if (!res.ok || !started.job_id) {
    throw new AppError(ErrorCode.StepFailed, `POST ${base}/analyze/merge → ${res.status}: ${started.detail ?? 'no job_id in the answer'}`);
  }
  const jobId = started.job_id;
  ctx.progress(`merge job ${jobId} started (limit ${String(params.limit)})`);
  let last = '';
  for (let polls = 1; ; polls++) {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, pollMs);
      ctx.signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
    });
    if (ctx.signal.aborted) throw new AppError(ErrorCode.Cancelled, `stopped following job ${jobId} (it may still be running in ML-Analyze)`);
    const r = await ctx.fetch(`${base}/analyze/status/${encodeURIComponent(jobId)}`, { signal: ctx.signal });
    const s = (await r.json().catch(() => ({}))) as Status;
    if (!r.ok) throw new AppError(ErrorCode.StepFailed, `GET /analyze/status/${jobId} → ${r.status}: ${s.detail ?? ''}`);
    const line = `job ${jobId}: ${s.status ?? '?'}${typeof s.progress === 'number' ? ` ${s.progress} %` : ''}${s.total ? ` (${s.processed ?? 0}/${s.total})` : ''}`;
    if (line !== last) ctx.progress(line);
    last = line;
    if (s.status === 'completed') return { summary: `merge job ${jobId} completed: ${s.processed ?? '?'} items processed after ${polls} status polls`, rows: s.processed ?? 0 };
    if (s.status === 'failed') throw new AppError(ErrorCode.StepFailed, `merge job ${jobId} failed: ${s.error ?? s.detail ?? 'no reason given'}`);
  }
};
