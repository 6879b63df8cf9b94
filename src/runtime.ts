import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Config } from './config/index.js';
import { coerceError } from './errors.js';
import { JobQueue } from './jobs/queue.js';
import { Maintenance } from './jobs/maintenance.js';
import { RollbackWorker } from './jobs/worker.js';
import type { Logger } from './log.js';
import { Metrics } from './metrics.js';
import type { Notifier } from './requests/notifier.js';
import { Policy, type GroupResolver } from './requests/policy.js';
import { RequestService } from './requests/service.js';
import { createExec } from './rollback/exec.js';
import type { Deps } from './rollback/types.js';
import { Store } from './store/store.js';

export interface Runtime {
  readonly store: Store;
  readonly deps: Deps;
  readonly queue: JobQueue;
  readonly service: RequestService;
  readonly metrics: Metrics;
  readonly worker?: RollbackWorker;
  readonly maintenance?: Maintenance;
  ready(): Promise<Record<string, boolean>>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  readonly notifier: (store: Store) => Notifier;
  readonly runWorker: boolean;
  readonly groups?: GroupResolver;
  readonly maintenanceIntervalMs?: number;
  readonly cancelPollMs?: number;
}

/** Builds the Slack-free core: state store, target clients, queue, service, and optionally a worker. */
export async function createRuntime(cfg: Config, log: Logger, o: RuntimeOptions): Promise<Runtime> {
  const store = await Store.open(cfg.stateDatabaseUrl, cfg.stateSchema, log);
  const db = new pg.Pool({ connectionString: cfg.databaseUrl, max: 5, application_name: 'ml-rollback target' });
  db.on('error', (err) => log.error({ err: err.message }, 'marketbel pool error'));
  const redis = new Redis(cfg.targetRedisUrl, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true });
  redis.on('error', (err) => log.warn({ err: err.message }, 'target redis error'));
  const deps: Deps = {
    db,
    redis,
    exec: createExec(cfg.file.targets.binPath),
    config: cfg.file,
    serviceUrls: cfg.serviceUrls,
    databaseUrl: cfg.databaseUrl,
    fetch: globalThis.fetch,
    now: () => new Date(),
    log,
  };
  const queue = new JobQueue(cfg.redisUrl, cfg.queuePrefix, log);
  const notifier = o.notifier(store);
  const policy = new Policy(cfg.file, o.groups);
  const metrics = new Metrics();
  const service = new RequestService({ store, deps, queue, notifier, policy, log, parse: cfg.file.data.timeZone !== 'UTC' ? { timeZone: cfg.file.data.timeZone } : {} });
  let worker: RollbackWorker | undefined;
  let maintenance: Maintenance | undefined;
  if (o.runWorker) {
    worker = new RollbackWorker({
      store, deps, notifier, log, redisUrl: cfg.redisUrl, prefix: cfg.queuePrefix, stateDatabaseUrl: cfg.stateDatabaseUrl,
      ...(o.cancelPollMs !== undefined ? { cancelPollMs: o.cancelPollMs } : {}),
    });
    worker.start();
    maintenance = new Maintenance({ store, queue, notifier, log, ...(o.maintenanceIntervalMs !== undefined ? { intervalMs: o.maintenanceIntervalMs } : {}) });
    maintenance.start();
  }
  const check = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      return true;
    } catch {
      return false;
    }
  };
  return {
    store, deps, queue, service, metrics,
    ...(worker ? { worker } : {}),
    ...(maintenance ? { maintenance } : {}),
    ready: async () => ({
      postgres: await check(() => store.ping()),
      redis: await check(() => queue.ping()),
    }),
    close: async () => {
      log.info({ host: hostname() }, 'shutting down: no new jobs; letting the running step finish');
      const steps: Array<[string, () => Promise<unknown>]> = [
        ['maintenance', async () => maintenance?.stop()],
        ['worker', async () => worker?.close()],
        ['queue', () => queue.close()],
        ['target redis', async () => redis.quit()],
        ['marketbel pool', () => db.end()],
        ['state store', () => store.close()],
      ];
      for (const [name, fn] of steps) {
        await fn().catch((err: unknown) => log.warn({ err: coerceError(err).message, name }, 'error while closing'));
      }
    },
  };
}
