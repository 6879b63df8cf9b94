import { hostname } from 'node:os';
import { UnrecoverableError, Worker } from 'bullmq';
import { AppError, coerceError, ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { Notifier } from '../requests/notifier.js';
import { runRequest } from '../rollback/runner.js';
import type { Deps } from '../rollback/types.js';
import type { Store } from '../store/store.js';
import { TargetLock } from './lock.js';
import { connectionFromUrl, QUEUE_NAME, type RunJob } from './queue.js';

export interface WorkerOptions {
  readonly store: Store;
  readonly deps: Deps;
  readonly notifier: Notifier;
  readonly redisUrl: string;
  readonly prefix: string;
  readonly stateDatabaseUrl: string;
  readonly log: Logger;
  readonly target?: string;
  readonly lockWaitMs?: number;
  readonly cancelPollMs?: number;
  /** BullMQ job lock: a worker that dies holding a job is detected this long after its last renewal. */
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
  /** On shutdown, how long the running step may take before it is ended and marked interrupted. */
  readonly shutdownGraceMs?: number;
  /** How often a run waiting for the target lock tries again. */
  readonly lockPollMs?: number;
}

/** Takes run jobs off the queue and runs them under the target lock. */
export class RollbackWorker {
  readonly worker: Worker<RunJob>;
  readonly name = `${hostname()}:${process.pid}`;
  private stopping = false;
  private readonly interrupt = new AbortController();

  constructor(private readonly o: WorkerOptions) {
    this.worker = new Worker<RunJob>(QUEUE_NAME, (job) => this.process(job.data), {
      connection: connectionFromUrl(o.redisUrl),
      prefix: o.prefix,
      concurrency: 1,
      // Steps keep the event loop free, so a lock renewal is never starved for long.
      lockDuration: o.lockDurationMs ?? 30_000,
      stalledInterval: o.stalledIntervalMs ?? 15_000,
      // A job whose workers keep dying ends up failed here; the maintenance sweep re-queues it from Postgres.
      maxStalledCount: 10,
      autorun: false,
    });
    this.worker.on('error', (err) => o.log.error({ err: err.message }, 'worker error'));
    this.worker.on('failed', (job, err) => o.log.warn({ jobId: job?.id, err: err.message }, 'job attempt failed'));
  }

  start(): void {
    void this.worker.run().catch((err: unknown) => this.o.log.error({ err: coerceError(err).message }, 'worker stopped'));
  }

  private async process(data: RunJob): Promise<string> {
    const log = this.o.log.child({ requestId: data.requestId, worker: this.name });
    const lock = await this.acquire(log);
    try {
      const outcome = await runRequest(data.requestId, {
        store: this.o.store,
        deps: this.o.deps,
        notifier: this.o.notifier,
        worker: this.name,
        log,
        guard: () => lock.assertHeld(),
        stopping: () => this.stopping,
        interrupt: this.interrupt.signal,
        ...(this.o.cancelPollMs !== undefined ? { cancelPollMs: this.o.cancelPollMs } : {}),
      });
      // Retryable on purpose: the job goes back to BullMQ and the next worker resumes after the last finished step.
      if (outcome === 'paused') throw new AppError(ErrorCode.Transient, 'worker shut down between steps; another worker resumes the run');
      return outcome;
    } catch (err) {
      const e = coerceError(err);
      log.error({ code: e.code, err: e.message }, 'run failed outside a step');
      if (!e.retryable) throw new UnrecoverableError(e.message);
      throw e;
    } finally {
      await lock.release();
    }
  }

  /** Waits for the target lock rather than failing: a second approved rollback queues behind the first. */
  private async acquire(log: Logger): Promise<TargetLock> {
    const deadline = Date.now() + (this.o.lockWaitMs ?? 15 * 60_000);
    let announced = false;
    for (;;) {
      try {
        return await TargetLock.acquire(this.o.stateDatabaseUrl, this.o.target ?? 'ml-analyze', this.name, log);
      } catch (err) {
        const e = coerceError(err);
        if (e.code !== ErrorCode.LockBusy || this.stopping || Date.now() > deadline) throw e;
        if (!announced) log.info('waiting for the target lock held by another run');
        announced = true;
        await new Promise((r) => setTimeout(r, this.o.lockPollMs ?? 1000));
      }
    }
  }

  /**
   * Graceful: take no new job, let the running step finish (no further step starts), and after
   * the grace period end the running step and mark it interrupted, so a person decides.
   */
  async close(force = false, graceMs = this.o.shutdownGraceMs ?? 30_000): Promise<void> {
    this.stopping = true;
    const grace = setTimeout(() => this.interrupt.abort(), graceMs);
    try {
      await this.worker.close(force);
    } finally {
      clearTimeout(grace);
    }
  }
}

export { AppError };
