import { Queue, type ConnectionOptions } from 'bullmq';
import type { Logger } from '../log.js';

export const QUEUE_NAME = 'rollbacks';

export interface RunJob {
  readonly requestId: string;
  readonly runNo: number;
}

/** BullMQ ids may not contain ':'; request ids never do. A retry gets a new id of its own. */
export const jobIdFor = (requestId: string, runNo: number) => (runNo <= 1 ? requestId : `${requestId}-run${runNo}`);

export function connectionFromUrl(url: string): ConnectionOptions {
  const u = new URL(url);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db: Number(u.pathname.replace('/', '') || 0),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/** The producer side: puts approved requests on the queue, exactly one job per run. */
export class JobQueue {
  readonly queue: Queue<RunJob>;
  constructor(redisUrl: string, prefix: string, log: Logger) {
    this.queue = new Queue<RunJob>(QUEUE_NAME, { connection: connectionFromUrl(redisUrl), prefix });
    this.queue.on('error', (err) => log.error({ err: err.message }, 'queue error'));
  }

  async enqueue(requestId: string, runNo: number): Promise<void> {
    const jobId = jobIdFor(requestId, runNo);
    const existing = await this.queue.getJob(jobId);
    if (existing) {
      const state = await existing.getState();
      // A finished job with the same id blocks a re-add; Postgres says the work is not done.
      if (state === 'completed' || state === 'failed') await existing.remove().catch(() => undefined);
      else return;
    }
    await this.queue.add('run', { requestId, runNo }, {
      jobId,
      attempts: 50,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  }

  async ping(): Promise<void> {
    await this.queue.getJobCounts('waiting');
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
