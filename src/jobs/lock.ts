import pg from 'pg';
import { AppError, ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';

/**
 * One rollback of a target at a time, across every worker on every machine: a PostgreSQL
 * session-level advisory lock on a connection of its own. It fails closed (no database, no run),
 * dies with its holder (the server drops the session), and survives a Redis flush.
 */
export const lockKey = (target: string) => `ml-rollback:target:${target}`;

export interface LockHolder {
  readonly pid: number;
  readonly application: string;
  readonly since: Date | null;
}

export class TargetLock {
  private constructor(
    private readonly client: pg.Client,
    readonly target: string,
  ) {}

  static async acquire(databaseUrl: string, target: string, holder: string, log: Logger): Promise<TargetLock> {
    const client = new pg.Client({ connectionString: databaseUrl, application_name: `ml-rollback lock ${holder}`.slice(0, 63) });
    client.on('error', (err) => log.error({ err: err.message, target }, 'target lock connection lost'));
    try {
      await client.connect();
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [lockKey(target)]);
      if (!rows[0]?.ok) throw new AppError(ErrorCode.LockBusy, `another rollback of ${target} is running; this one waits for it`);
      return new TargetLock(client, target);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Who holds the lock right now (the server session, so it survives nothing of ours). Advisory
   * locks on one int8 key appear in pg_locks split into classid (high half) and objid (low half).
   */
  static async holder(db: pg.Pool | pg.Client, target: string): Promise<LockHolder | null> {
    const { rows } = await db.query<{ pid: number; application_name: string | null; backend_start: Date | null }>(
      `SELECT l.pid, a.application_name, a.backend_start
         FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtext($1)::bigint`,
      [lockKey(target)],
    );
    const r = rows[0];
    return r ? { pid: r.pid, application: r.application_name ?? '', since: r.backend_start } : null;
  }

  /**
   * Break-glass: ends the server session holding the lock, which releases it. The holder's worker
   * notices before its next step (assertHeld) and stops its run as interrupted.
   */
  static async forceRelease(db: pg.Pool | pg.Client, target: string): Promise<LockHolder | null> {
    const holder = await TargetLock.holder(db, target);
    if (!holder) return null;
    await db.query('SELECT pg_terminate_backend($1)', [holder.pid]);
    return holder;
  }

  /** Throws when the session holding the lock is gone: running on without it would be unsafe. */
  async assertHeld(): Promise<void> {
    try {
      await this.client.query('SELECT 1');
    } catch (err) {
      throw new AppError(ErrorCode.LockBusy, `lost the ${this.target} lock: ${(err as Error).message}`);
    }
  }

  async release(): Promise<void> {
    await this.client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey(this.target)]).catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }
}
