import { Queue, Worker } from 'bullmq';
import { coerceError } from '../errors.js';
import { reminderJobId, type ReminderScheduler } from '../incidents/reminders.js';
import type { Logger } from '../log.js';
import { connectionFromUrl } from './queue.js';

export const REMINDER_QUEUE = 'incident-reminders';

interface ReminderJob {
  readonly incidentId: string;
}

/** Reminders as BullMQ delayed jobs: they live in Redis, so a restart does not forget them. */
export class ReminderQueue implements ReminderScheduler {
  readonly queue: Queue<ReminderJob>;

  constructor(redisUrl: string, prefix: string, log: Logger, private readonly now: () => Date = () => new Date()) {
    this.queue = new Queue<ReminderJob>(REMINDER_QUEUE, { connection: connectionFromUrl(redisUrl), prefix });
    this.queue.on('error', (err) => log.error({ err: err.message }, 'reminder queue error'));
  }

  async schedule(incidentId: string, dueAt: Date): Promise<string> {
    const jobId = reminderJobId(incidentId, dueAt);
    await this.queue.add('remind', { incidentId }, {
      jobId,
      delay: Math.max(0, dueAt.getTime() - this.now().getTime()),
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600 },
    });
    return jobId;
  }

  async cancel(jobId: string): Promise<void> {
    const job = await this.queue.getJob(jobId);
    // An active job cannot be removed (it is the one running now); it finds itself stale instead.
    if (job && !(await job.isActive())) await job.remove();
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/** Runs due reminders; the handler decides, from Postgres, whether the reminder is still wanted. */
export class ReminderWorker {
  readonly worker: Worker<ReminderJob>;

  constructor(o: { redisUrl: string; prefix: string; log: Logger; handle: (incidentId: string, jobId: string) => Promise<string> }) {
    this.worker = new Worker<ReminderJob>(REMINDER_QUEUE, (job) => o.handle(job.data.incidentId, job.id ?? ''), {
      connection: connectionFromUrl(o.redisUrl),
      prefix: o.prefix,
      concurrency: 2,
      autorun: false,
    });
    this.worker.on('error', (err) => o.log.error({ err: err.message }, 'reminder worker error'));
    this.worker.on('failed', (job, err) => o.log.warn({ jobId: job?.id, err: coerceError(err).message }, 'reminder failed'));
    void this.worker.run().catch((err: unknown) => o.log.error({ err: coerceError(err).message }, 'reminder worker stopped'));
  }

  async close(): Promise<void> {
    await this.worker.close();
  }
}
