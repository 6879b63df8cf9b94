import { AppError, coerceError, ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { Notifier } from '../requests/notifier.js';
import type { RequestRow, StepRunRow, Store } from '../store/store.js';
import { hostname } from 'node:os';
import type { Exec } from './exec.js';
import { EXECUTORS } from './executors/index.js';
import { endOrphans } from './orphans.js';
import { redact } from '../redact.js';
import { planHash } from './hash.js';
import { precheckStep } from './prechecks.js';
import type { Deps, StepResult, StepSpec } from './types.js';

export interface RunnerOptions {
  readonly store: Store;
  readonly deps: Deps;
  readonly notifier: Notifier;
  readonly worker: string;
  readonly log: Logger;
  /** How often a running step looks for a cancel request. */
  readonly cancelPollMs?: number;
  /** Throws when this worker no longer holds the target lock (e.g. force-released); checked before each step. */
  readonly guard?: () => Promise<void>;
  /** True once the worker is shutting down: no further step starts, the run waits for another worker. */
  readonly stopping?: () => boolean;
  /** Aborted when a shutdown's grace period is over: the running step is ended and marked interrupted. */
  readonly interrupt?: AbortSignal;
}

/** `paused`: stopped between steps by a shutdown; the request stays running for the next worker. */
export type RunOutcome = 'noop' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted' | 'paused';

/** A step that ran to success, or that a person chose to skip (audited), counts as done on resume. */
const done = (r: StepRunRow | undefined): boolean => r?.state === 'succeeded' || r?.state === 'skipped';

/**
 * Runs one approved request to its end. Safe to call more than once for the same request (BullMQ
 * is at-least-once): Postgres says which steps already succeeded, and a step found "running" (its
 * worker died) is re-run only when it is idempotent. The caller holds the target lock.
 */
export async function runRequest(requestId: string, o: RunnerOptions): Promise<RunOutcome> {
  const { store, notifier } = o;
  let req = await store.getRequest(requestId);
  if (!req || (req.state !== 'approved' && req.state !== 'running')) {
    o.log.info({ requestId, state: req?.state }, 'nothing to run');
    return 'noop';
  }
  const log = o.log.child({ requestId });
  if (!req.approvedHash || req.approvedHash !== planHash(req.plan) || req.approvedHash !== req.planHash) {
    return finish(o, req, 'failed', { code: ErrorCode.PlanChanged, message: 'the stored plan is not the plan that was approved; nothing was run' });
  }
  if (req.state === 'approved') {
    const started = await store.transition(req.id, ['approved'], 'running', { started_at: new Date() });
    if (!started) return 'noop';
    req = started;
    await store.audit({ requestId: req.id, actor: o.worker, action: 'run-started', detail: { runNo: req.runNo, resumeFrom: req.resumeFrom } });
  } else {
    await store.audit({ requestId: req.id, actor: o.worker, action: 'run-resumed', detail: { runNo: req.runNo } });
  }

  const steps = req.plan.steps;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    const latest = await store.latestSteps(req.id);
    const last = latest.get(i);
    if (done(last) && (i < req.resumeFrom || last!.runNo === req.runNo)) continue;
    if (i < req.resumeFrom && !done(last)) {
      // Resuming past a step that never succeeded would run later steps on a wrong premise.
      return finish(o, req, 'failed', { code: ErrorCode.Precondition, message: `step ${i + 1} never succeeded; retry from step ${i + 1}`, step: i });
    }
    if (last?.state === 'running' && last.runNo === req.runNo) {
      const ended = endOrphans(last.children ?? []);
      if (ended.length) await store.audit({ requestId: req.id, actor: o.worker, action: 'orphans-ended', detail: { step: i + 1, children: ended } });
      await store.finishStep(last.id, 'interrupted', { summary: `worker ${last.worker} stopped during this step` });
      if (!step.idempotent) {
        const interrupted = await store.transition(req.id, ['running'], 'interrupted', {
          error: { code: 'interrupted', message: `step ${i + 1} (${step.title}) was running when its worker died and is not safe to repeat`, step: i },
        });
        await store.audit({ requestId: req.id, actor: o.worker, action: 'interrupted', detail: { step: i + 1, stepId: step.id } });
        if (interrupted) await notifier.finished(interrupted, await store.latestSteps(req.id));
        return 'interrupted';
      }
      log.warn({ step: step.id }, 're-running an idempotent step interrupted by a dead worker');
    }
    const fresh = await store.getRequest(req.id);
    if (!fresh || fresh.state !== 'running') return 'noop';
    if (fresh.cancelRequested) return finish(o, fresh, 'cancelled', { code: ErrorCode.Cancelled, message: `cancelled before step ${i + 1}`, step: i });
    req = fresh;
    if (o.stopping?.()) {
      await store.audit({ requestId: req.id, actor: o.worker, action: 'run-paused', detail: { beforeStep: i + 1, reason: 'worker shutting down' } });
      log.info({ step: step.id }, 'shutting down between steps; another worker resumes this run');
      return 'paused';
    }
    if (o.guard) {
      try {
        await o.guard();
      } catch (err) {
        return interrupt(o, req, i, `stopped before step ${i + 1}: ${coerceError(err).message}. Check that no other run is active, then Retry`);
      }
    }

    const changed = await precheckStep(o.deps, step);
    if (changed) return finish(o, req, 'failed', { code: ErrorCode.PlanChanged, message: `${changed}; re-plan and approve again`, step: i });

    const run = await store.startStep({ requestId: req.id, runNo: req.runNo, stepIndex: i, stepId: step.id, worker: o.worker });
    await store.audit({ requestId: req.id, actor: o.worker, action: 'step-started', detail: { step: i + 1, stepId: step.id, attempt: run.attempt } });
    await notifier.progress(req, await store.latestSteps(req.id));

    const result = await runStep(o, req, step, i, run.id);
    if (result.ok) {
      const r = result.value;
      const state = r.failed ? 'failed' : 'succeeded';
      await store.finishStep(run.id, state, { summary: r.summary, exitCode: r.exitCode, rows: r.rows, keys: r.keys, outputTail: r.output, result: r });
      if (r.backup) {
        await store.recordBackup({
          id: r.backup.id, requestId: req.id, stepId: step.id, kind: r.backup.table?.startsWith('public.') ? 'table-dump' : r.backup.file?.endsWith('.jsonl') ? 'redis' : 'rows',
          source: step.params.table ? String(step.params.table) : String(step.params.selection ?? step.params.pattern ?? ''),
          location: r.backup.file ?? r.backup.table ?? '', rows: r.backup.rows,
        });
      }
      await store.audit({
        requestId: req.id, actor: o.worker, action: 'step-finished',
        detail: { step: i + 1, stepId: step.id, state, summary: r.summary, rows: r.rows, keys: r.keys, exitCode: r.exitCode, backup: r.backup?.id, tail: auditTail(r.output) },
      });
      if (r.failed) return finish(o, req, 'failed', { code: ErrorCode.StepFailed, message: r.summary, step: i });
      await notifier.progress(req, await store.latestSteps(req.id));
      continue;
    }
    const err = result.error;
    if (o.interrupt?.aborted) {
      await store.finishStep(run.id, 'interrupted', { summary: 'the worker shut down during this step', outputTail: typeof err.details.tail === 'string' ? err.details.tail : undefined });
      await store.audit({ requestId: req.id, actor: o.worker, action: 'step-finished', detail: { step: i + 1, stepId: step.id, state: 'interrupted', error: err.message } });
      return interrupt(o, req, i, `step ${i + 1} (${step.title}) was ended because its worker shut down`);
    }
    const cancelled = err.code === ErrorCode.Cancelled;
    const tail = typeof err.details.tail === 'string' ? err.details.tail : undefined;
    await store.finishStep(run.id, cancelled ? 'cancelled' : 'failed', {
      summary: err.message,
      outputTail: tail,
      rows: typeof err.details.rows === 'number' ? err.details.rows : undefined,
    });
    await store.audit({ requestId: req.id, actor: o.worker, action: 'step-finished', detail: { step: i + 1, stepId: step.id, state: cancelled ? 'cancelled' : 'failed', error: redact(err.message), code: err.code, tail: auditTail(tail) } });
    return finish(o, req, cancelled ? 'cancelled' : 'failed', { code: err.code, message: err.message, step: i });
  }
  return finish(o, req, 'succeeded', null);
}

async function runStep(o: RunnerOptions, req: RequestRow, step: StepSpec, index: number, stepRunId: number): Promise<{ ok: true; value: StepResult } | { ok: false; error: AppError }> {
  const executor = EXECUTORS[step.kind];
  if (!executor) return { ok: false, error: new AppError(ErrorCode.Internal, `no executor for step kind ${step.kind}`) };
  const controller = new AbortController();
  const onInterrupt = () => controller.abort(new AppError(ErrorCode.Cancelled, 'the worker is shutting down'));
  if (o.interrupt?.aborted) onInterrupt();
  o.interrupt?.addEventListener('abort', onInterrupt, { once: true });
  const timeout = setTimeout(() => controller.abort(new AppError(ErrorCode.Timeout, `step timed out after ${Math.round(step.timeoutMs / 1000)} s`)), step.timeoutMs);
  const poll = setInterval(() => {
    o.store.getRequest(req.id).then(
      (r) => {
        if (r?.cancelRequested) controller.abort(new AppError(ErrorCode.Cancelled, 'cancelled by request'));
      },
      () => undefined,
    );
  }, o.cancelPollMs ?? 500);
  const log = o.log.child({ requestId: req.id, step: step.id });
  try {
    const host = hostname();
    const exec: Exec = (argv, opts) =>
      o.deps.exec(argv, {
        ...opts,
        onSpawn: (pgid) => {
          opts.onSpawn?.(pgid);
          void o.store.recordChild(stepRunId, { host, pgid, file: argv[0] ?? '' }).catch(() => undefined);
        },
      });
    const value = await executor(step.params, {
      ...o.deps,
      exec,
      log,
      requestId: req.id,
      signal: controller.signal,
      step,
      progress: (line) => void o.notifier.progress(req, new Map(), `step ${index + 1}: ${line}`),
    });
    if (controller.signal.aborted) return { ok: false, error: coerceError(controller.signal.reason) };
    return { ok: true, value };
  } catch (err) {
    const e = controller.signal.aborted && !(err instanceof AppError && (err.code === ErrorCode.Cancelled || err.code === ErrorCode.Timeout)) ? coerceError(controller.signal.reason) : coerceError(err);
    log.warn({ code: e.code, err: e.message }, 'step failed');
    return { ok: false, error: e };
  } finally {
    clearTimeout(timeout);
    clearInterval(poll);
    o.interrupt?.removeEventListener('abort', onInterrupt);
  }
}

/** The audit keeps the last lines of output too (redacted), so the trail stands on its own. */
const auditTail = (text: string | undefined): string | undefined => (text ? redact(text.slice(-1000)) : undefined);

/** Stops a run that needs a person: the thread offers Retry step / Skip / Abort. */
async function interrupt(o: RunnerOptions, req: RequestRow, step: number, message: string): Promise<RunOutcome> {
  const stopped = await o.store.transition(req.id, ['running'], 'interrupted', { error: { code: 'interrupted', message, step } });
  await o.store.audit({ requestId: req.id, actor: o.worker, action: 'interrupted', detail: { step: step + 1, reason: message } });
  if (stopped) await o.notifier.finished(stopped, await o.store.latestSteps(req.id));
  return 'interrupted';
}

async function finish(o: RunnerOptions, req: RequestRow, state: 'succeeded' | 'failed' | 'cancelled', error: { code: string; message: string; step?: number } | null): Promise<RunOutcome> {
  const done = await o.store.transition(req.id, ['running', 'approved'], state, { finished_at: new Date(), error });
  await o.store.audit({ requestId: req.id, actor: o.worker, action: `run-${state}`, detail: error ? { ...error } : {} });
  o.log.info({ requestId: req.id, state, error: error?.message }, 'request finished');
  if (done) await o.notifier.finished(done, await o.store.latestSteps(req.id));
  return state;
}

export type { StepRunRow };
