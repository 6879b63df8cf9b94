import { Queue, Worker } from 'bullmq';
import { coerceError } from '../errors.js';
import type { HealthMonitor } from '../incidents/healthMonitor.js';
import type { Logger } from '../log.js';
import { connectionFromUrl } from './queue.js';

export const HEALTH_QUEUE = 'health-monitor';
const SCHEDULER_ID = 'ml-analyze-health';

/**
 * The health monitor as a BullMQ job scheduler: however many workers run, one schedule exists
 * (upserted by id) and each check runs once, on one of them.
 */
export class HealthMonitorJob {
  readonly queue: Queue;
  readonly worker: Worker;

  private constructor(queue: Queue, worker: Worker) {
    this.queue = queue;
    this.worker = worker;
  }

  static async start(o: { redisUrl: string; prefix: string; intervalMs: number; monitor: HealthMonitor; log: Logger }): Promise<HealthMonitorJob> {
    const connection = connectionFromUrl(o.redisUrl);
    const queue = new Queue(HEALTH_QUEUE, { connection, prefix: o.prefix });
    queue.on('error', (err) => o.log.error({ err: err.message }, 'health monitor queue error'));
    await queue.upsertJobScheduler(SCHEDULER_ID, { every: o.intervalMs }, { name: 'check', opts: { removeOnComplete: 100, removeOnFail: 100 } });
    const worker = new Worker(HEALTH_QUEUE, async () => JSON.stringify(await o.monitor.tick()), {
      connection,
      prefix: o.prefix,
      concurrency: 1,
      autorun: false,
    });
    worker.on('error', (err) => o.log.error({ err: err.message }, 'health monitor worker error'));
    worker.on('failed', (job, err) => o.log.warn({ jobId: job?.id, err: coerceError(err).message }, 'health check job failed'));
    void worker.run().catch((err: unknown) => o.log.error({ err: coerceError(err).message }, 'health monitor worker stopped'));
    return new HealthMonitorJob(queue, worker);
  }

  async close(): Promise<void> {
    await this.worker.close();
    await this.queue.close();
  }
}
