import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { AppError, ErrorCode } from '../../errors.js';
import { assertSelectedDb } from '../../preflight.js';
import type { Executor } from '../types.js';

/** SCAN never blocks Redis the way KEYS does; COUNT is a hint per round trip. */
export async function* scanKeys(redis: Redis, pattern: string, count: number): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', count);
    cursor = next;
    if (keys.length) yield keys;
  } while (cursor !== '0');
}

export async function countKeys(redis: Redis, pattern: string, count = 1000): Promise<number> {
  let n = 0;
  for await (const keys of scanKeys(redis, pattern, count)) n += keys.length;
  return n;
}

const str = (v: unknown, name: string): string => {
  if (typeof v !== 'string' || !v) throw new AppError(ErrorCode.Internal, `step parameter ${name} missing`);
  return v;
};

/**
 * Saves every key the clear will remove (DUMP + TTL, one JSON line per key) so `restore` can put the
 * jobs back with RESTORE. The file is the backup named in the thread.
 */
export const redisBackup: Executor = async (params, ctx) => {
  await assertSelectedDb(ctx.redis, 'TARGET_REDIS_URL');
  const pattern = str(params.pattern, 'pattern');
  const extra = Array.isArray(params.keys) ? params.keys.map(String) : [];
  const dir = path.resolve(ctx.config.backups.directory);
  await mkdir(dir, { recursive: true });
  const id = `${ctx.requestId}-redis-jobs`;
  const file = path.join(dir, `${id}.jsonl`);
  const out = createWriteStream(file, { flags: 'w', mode: 0o600 });
  let n = 0;
  const write = async (key: string) => {
    const [dump, pttl] = await Promise.all([ctx.redis.dumpBuffer(key), ctx.redis.pttl(key)]);
    if (!dump) return;
    n++;
    if (!out.write(`${JSON.stringify({ key, ttl: pttl > 0 ? pttl : 0, dump: dump.toString('base64') })}\n`)) await once(out, 'drain');
  };
  for await (const keys of scanKeys(ctx.redis, pattern, ctx.config.targets.redis.batchSize)) {
    if (ctx.signal.aborted) break;
    for (const key of keys) await write(key);
  }
  for (const key of extra) await write(key);
  out.end();
  await once(out, 'finish');
  if (ctx.signal.aborted) throw new AppError(ErrorCode.Cancelled, 'backup stopped by cancel');
  return { summary: `saved ${n} keys to ${path.basename(file)}`, keys: n, backup: { id, file, rows: n } };
};

/** SCAN + UNLINK in batches (the runbook's `DEL pattern` deletes nothing; KEYS blocks Redis). */
export const redisClearPattern: Executor = async (params, ctx) => {
  await assertSelectedDb(ctx.redis, 'TARGET_REDIS_URL');
  const pattern = str(params.pattern, 'pattern');
  const batch = typeof params.batchSize === 'number' ? params.batchSize : 500;
  let deleted = 0;
  for await (const keys of scanKeys(ctx.redis, pattern, batch)) {
    if (ctx.signal.aborted) throw new AppError(ErrorCode.Cancelled, `cancelled after unlinking ${deleted} keys`);
    for (let i = 0; i < keys.length; i += batch) deleted += await ctx.redis.unlink(...keys.slice(i, i + batch));
    ctx.progress(`${deleted} keys unlinked`);
  }
  return { summary: `unlinked ${deleted} keys matching ${pattern}`, keys: deleted };
};

export const redisUnlinkKeys: Executor = async (params, ctx) => {
  await assertSelectedDb(ctx.redis, 'TARGET_REDIS_URL');
  const keys = Array.isArray(params.keys) ? params.keys.map(String) : [];
  const deleted = keys.length ? await ctx.redis.unlink(...keys) : 0;
  return { summary: `unlinked ${deleted} of ${keys.length} queue keys (${keys.join(', ')})`, keys: deleted };
};
