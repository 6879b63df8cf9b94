import { coerceError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Notifier } from '../requests/notifier.js';
import type { Store } from '../store/store.js';
import type { JobQueue } from './queue.js';

/**
 * Postgres is the truth, Redis only carries jobs: on start and then periodically, every approved
 * request that has not finished is put back on the queue (a no-op when its job is there), and
 * requests past their approval window are expired.
 */
export class Maintenance {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly o: { store: Store; queue: JobQueue; notifier: Notifier; log: Logger; intervalMs?: number; now?: () => Date },
  ) {}

  async tick(): Promise<{ requeued: number; expired: number }> {
    const { store, queue, notifier, log } = this.o;
    let requeued = 0;
    for (const req of await store.unfinishedApproved()) {
      try {
        await queue.enqueue(req.id, Math.max(req.runNo, 1));
        requeued++;
      } catch (err) {
        log.warn({ requestId: req.id, err: coerceError(err).message }, 'could not re-queue; will try again');
      }
    }
    const expired = await store.expireDue(this.o.now?.() ?? new Date());
    for (const req of expired) {
      await store.audit({ requestId: req.id, actor: 'system', action: 'expired' });
      await notifier.decided(req, { kind: 'expired' });
    }
    return { requeued, expired: expired.length };
  }

  start(): void {
    const loop = () => {
      this.running = this.tick()
        .then(() => undefined)
        .catch((err: unknown) => this.o.log.warn({ err: coerceError(err).message }, 'maintenance tick failed'))
        .finally(() => {
          if (this.stopped) return;
          this.timer = setTimeout(loop, this.o.intervalMs ?? 15_000);
          this.timer.unref();
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
