import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Config } from './config/index.js';
import { coerceError } from './errors.js';
import { AlertIntake } from './incidents/alertIntake.js';
import { HealthMonitor } from './incidents/healthMonitor.js';
import { withIncidents } from './incidents/linkNotifier.js';
import { silentIncidentNotifier, type IncidentNotifier } from './incidents/notifier.js';
import { IncidentService } from './incidents/service.js';
import { HealthMonitorJob } from './jobs/healthMonitor.js';
import { JobQueue } from './jobs/queue.js';
import { ReminderQueue, ReminderWorker } from './jobs/reminders.js';
import { Maintenance } from './jobs/maintenance.js';
import { RollbackWorker, type WorkerOptions } from './jobs/worker.js';
import type { Logger } from './log.js';
import { Metrics } from './metrics.js';
import { reachPostgres, reachRedis } from './preflight.js';
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
  readonly incidents: IncidentService;
  readonly alerts: AlertIntake;
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
  /** Queue-lock and shutdown timings of the worker (tests shorten them). */
  readonly worker?: Pick<WorkerOptions, 'lockDurationMs' | 'stalledIntervalMs' | 'shutdownGraceMs' | 'lockWaitMs' | 'lockPollMs'>;
  /** How incidents reach people (default: nobody); `monitor` runs the ML-Analyze health monitor job. */
  readonly incidents?: { readonly notifier?: (store: Store) => IncidentNotifier; readonly monitor?: boolean; readonly now?: () => Date };
}

/**
 * What plans and steps act on: the marketbel database, ML-Analyze's Redis, child processes and
 * HTTP. Shared by the runtime and the break-glass `plan` role, so both see the same settings.
 */
export function createTargetDeps(cfg: Config, log: Logger): Deps {
  // Every statement on the marketbel database gives up on a lock after lockTimeoutMs, so a locked
  // table makes a plan or a step fail clearly instead of hanging silently; data steps set their own.
  const db = new pg.Pool({
    connectionString: cfg.databaseUrl,
    max: 5,
    application_name: 'ml-rollback target',
    options: `-c lock_timeout=${Math.trunc(cfg.file.data.lockTimeoutMs)}`,
  });
  db.on('error', (err) => log.error({ err: err.message }, 'marketbel pool error'));
  const redis = new Redis(cfg.targetRedisUrl, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true });
  redis.on('error', (err) => log.warn({ err: err.message }, 'target redis error'));
  return {
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
}

/** Builds the Slack-free core: state store, target clients, queue, service, and optionally a worker. */
export async function createRuntime(cfg: Config, log: Logger, o: RuntimeOptions): Promise<Runtime> {
  // The bot's own state and queue are required; the systems it repairs may well be down.
  await reachPostgres(cfg.stateDatabaseUrl, cfg.stateDatabaseUrl === cfg.databaseUrl ? 'DATABASE_URL' : 'STATE_DATABASE_URL');
  await reachRedis(cfg.redisUrl, 'REDIS_URL');
  if (cfg.stateDatabaseUrl !== cfg.databaseUrl) {
    await reachPostgres(cfg.databaseUrl, 'DATABASE_URL').catch((err: unknown) => log.warn({ err: coerceError(err).message }, 'the marketbel database is unreachable; plans that read it will fail until it is back'));
  }
  if (cfg.targetRedisUrl !== cfg.redisUrl) {
    await reachRedis(cfg.targetRedisUrl, 'TARGET_REDIS_URL').catch((err: unknown) => {
      // A wrong URL is a mistake to fix now; an unreachable Redis may be the very outage being handled.
      if (coerceError(err).details.misconfigured) throw err;
      log.warn({ err: coerceError(err).message }, 'the ML-Analyze Redis is unreachable; Redis steps will fail until it is back');
    });
  }
  const store = await Store.open(cfg.stateDatabaseUrl, cfg.stateSchema, log);
  const deps: Deps = { ...createTargetDeps(cfg, log), backups: () => store.backups() };
  const { db, redis } = deps;
  const queue = new JobQueue(cfg.redisUrl, cfg.queuePrefix, log);
  const policy = new Policy(cfg.file, o.groups);
  const reminders = new ReminderQueue(cfg.redisUrl, cfg.queuePrefix, log, o.incidents?.now);
  const incidents = new IncidentService({
    store, reminders, config: cfg.file, log,
    notifier: o.incidents?.notifier?.(store) ?? silentIncidentNotifier,
    channelAllowed: (actor) => policy.channelAllowed(actor),
    ...(o.incidents?.now ? { now: o.incidents.now } : {}),
  });
  const alerts = new AlertIntake(incidents, cfg.file, log);
  const notifier = withIncidents(o.notifier(store), async (incidentId) => incidents.refresh(incidentId), log);
  const metrics = new Metrics();
  const service = new RequestService({
    store, deps, queue, notifier, policy, log, parse: cfg.file.data.timeZone !== 'UTC' ? { timeZone: cfg.file.data.timeZone } : {},
    incidents: (cmd, actor) => incidents.command(cmd, actor),
    openIncident: () => incidents.openIncident(),
  });
  let reminderWorker: ReminderWorker | undefined;
  let monitorJob: HealthMonitorJob | undefined;
  let worker: RollbackWorker | undefined;
  let maintenance: Maintenance | undefined;
  if (o.runWorker) {
    worker = new RollbackWorker({
      store, deps, notifier, log, redisUrl: cfg.redisUrl, prefix: cfg.queuePrefix, stateDatabaseUrl: cfg.stateDatabaseUrl,
      ...(o.cancelPollMs !== undefined ? { cancelPollMs: o.cancelPollMs } : {}),
      ...o.worker,
    });
    worker.start();
    maintenance = new Maintenance({ store, queue, notifier, log, ...(o.maintenanceIntervalMs !== undefined ? { intervalMs: o.maintenanceIntervalMs } : {}) });
    maintenance.start();
    reminderWorker = new ReminderWorker({ redisUrl: cfg.redisUrl, prefix: cfg.queuePrefix, log, handle: (id, jobId) => incidents.remind(id, jobId) });
    if (o.incidents?.monitor) {
      const monitor = new HealthMonitor({ incidents, fetch: deps.fetch, url: cfg.serviceUrls.mlAnalyze, log });
      monitorJob = await HealthMonitorJob.start({ redisUrl: cfg.redisUrl, prefix: cfg.queuePrefix, intervalMs: cfg.file.incidents.monitor.intervalMs, monitor, log });
    }
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
    store, deps, queue, service, incidents, alerts, metrics,
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
        ['health monitor', async () => monitorJob?.close()],
        ['reminders', async () => reminderWorker?.close()],
        ['reminder queue', () => reminders.close()],
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
