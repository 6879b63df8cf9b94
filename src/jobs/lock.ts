import pg from 'pg';
import { AppError, ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';

/**
 * One rollback of a target at a time, across every worker on every machine: a PostgreSQL
 * session-level advisory lock on a connection of its own. It fails closed (no database, no run),
 * dies with its holder (the server drops the session), and survives a Redis flush.
 */
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
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [`ml-rollback:target:${target}`]);
      if (!rows[0]?.ok) throw new AppError(ErrorCode.LockBusy, `another rollback of ${target} is running; this one waits for it`);
      return new TargetLock(client, target);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
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
    await this.client.query('SELECT pg_advisory_unlock(hashtext($1))', [`ml-rollback:target:${this.target}`]).catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }
}
