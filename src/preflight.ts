import { Redis } from 'ioredis';
import pg from 'pg';
import { AppError, ErrorCode } from './errors.js';
import { redact } from './redact.js';

/**
 * Start-up checks that name the variable to fix. Without them a wrong REDIS_URL shows up as a
 * request stuck at "approved, queued" and a stream of connection errors naming no setting.
 */
export async function reachPostgres(url: string, variable: string, timeoutMs = 5000): Promise<void> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('SELECT 1');
  } catch (err) {
    throw new AppError(ErrorCode.Config, `${variable}: cannot reach PostgreSQL at ${redact(url)}: ${redact((err as Error).message)}`);
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function reachRedis(url: string, variable: string, timeoutMs = 3000): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
  } catch (err) {
    throw new AppError(ErrorCode.Config, `${variable}: cannot reach Redis at ${redact(url)}: ${redact((err as Error).message)}`);
  }
  try {
    await assertSelectedDb(r, variable);
  } finally {
    r.disconnect();
  }
}

/**
 * A failed SELECT (say database 99 of 16) leaves an ioredis connection on database 0, where it
 * would happily scan and unlink someone else's keys. Check where the connection really is.
 */
export async function assertSelectedDb(r: Redis, variable: string): Promise<void> {
  const want = r.options.db ?? 0;
  let info: string;
  try {
    info = String(await r.client('INFO'));
  } catch {
    return; // Redis before 6.2 has no CLIENT INFO; nothing to compare with.
  }
  const at = /\bdb=(\d+)/.exec(info)?.[1];
  if (at !== undefined && Number(at) !== want) {
    throw new AppError(ErrorCode.Config, `${variable}: Redis did not select database ${want} (the connection is on database ${at}); fix the URL. Nothing was touched.`, { misconfigured: true });
  }
}
