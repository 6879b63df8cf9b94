import { createReadStream } from 'node:fs';
import { assertSelectedDb } from '../../preflight.js';
import readline from 'node:readline';
import { AppError, ErrorCode } from '../../errors.js';
import { pgEnv } from '../pgenv.js';
import { lastLine } from '../targets/run.js';
import type { Executor } from '../types.js';
import { BACKUP_SCHEMA, shortTransaction } from './pg.js';

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
function ident(v: unknown): string {
  const s = String(v);
  if (!IDENT.test(s)) throw new AppError(ErrorCode.Internal, `not an identifier: ${s}`);
  return s;
}

/**
 * Puts a row backup (a table in the backup schema) back, in batches keyed on the primary key:
 * rows that are gone are inserted (ON CONFLICT DO NOTHING: rows present now are kept), and in
 * `update` mode rows still present get their backed-up values back (the undo of revert-matches).
 */
export const restoreRows: Executor = async (params, ctx) => {
  const table = ident(params.table);
  const backup = ident(params.backupTable);
  const key = ident(params.key);
  const update = params.mode === 'update';
  const batch = ctx.config.data.batchSize;
  const { rows: cols } = await ctx.db.query<{ c: string; t: string }>(
    `SELECT a.attname AS c, format_type(a.atttypid, a.atttypmod) AS t FROM pg_attribute a
      WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
        AND a.attname IN (SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($2) AND attnum > 0 AND NOT attisdropped)
      ORDER BY a.attnum`,
    [`${BACKUP_SCHEMA}.${backup}`, `public.${table}`],
  );
  const keyType = cols.find((c) => c.c === key)?.t;
  if (!keyType) throw new AppError(ErrorCode.Precondition, `backup ${BACKUP_SCHEMA}.${backup} is missing or has no ${key} column; nothing was restored`);
  // The backup table has no index; each keyset batch would otherwise sort the whole backup again.
  await ctx.db.query(`CREATE INDEX IF NOT EXISTS ${backup.slice(0, 50)}_key ON ${BACKUP_SCHEMA}.${backup} (${key})`);
  const names = cols.map((c) => `"${c.c}"`).join(', ');
  const sets = cols.filter((c) => c.c !== key).map((c) => `"${c.c}" = chunk."${c.c}"`).join(', ');
  const sql = `WITH chunk AS (SELECT * FROM ${BACKUP_SCHEMA}.${backup} WHERE $1::text IS NULL OR ${key} > $1::${keyType} ORDER BY ${key} LIMIT $2),
    ins AS (INSERT INTO public.${table} (${names}) SELECT ${names} FROM chunk ON CONFLICT DO NOTHING RETURNING 1)
    ${update ? `, upd AS (UPDATE public.${table} t SET ${sets} FROM chunk WHERE t.${key} = chunk.${key} RETURNING 1)` : ''}
    SELECT (SELECT ${key}::text FROM chunk ORDER BY ${key} DESC LIMIT 1) AS last, (SELECT count(*) FROM chunk)::int AS n, (SELECT count(*) FROM ins)::int AS inserted${update ? ', (SELECT count(*) FROM upd)::int AS updated' : ''}`;
  let last: string | null = null;
  let inserted = 0;
  let updated = 0;
  let seen = 0;
  let longest = 0;
  for (;;) {
    if (ctx.signal.aborted) throw new AppError(ErrorCode.Cancelled, `cancelled after restoring ${inserted + updated} rows`);
    const res = await shortTransaction(ctx, (q) => q(sql, [last, batch]), (ms) => (longest = Math.max(longest, ms)));
    const row = res.rows[0] as { last: string | null; n: number; inserted: number; updated?: number };
    seen += row.n;
    inserted += row.inserted;
    updated += row.updated ?? 0;
    if (row.n > 0) ctx.progress(`${seen} backed-up rows processed`);
    if (row.n < batch || row.last === null) break;
    last = row.last;
  }
  return {
    summary: `restored ${table} from ${BACKUP_SCHEMA}.${backup}: ${inserted} rows inserted${update ? `, ${updated} rows set back to their backed-up values` : `, ${seen - inserted} already present and kept`} (longest transaction ${longest} ms)`,
    rows: inserted + updated,
  };
};

/** pg_restore of a dump file with the flags the plan chose for the current state of the tables. */
export const pgRestore: Executor = async (params, ctx) => {
  const file = String(params.file);
  const tables = Array.isArray(params.tables) ? params.tables.map(ident) : [];
  const dbname = new URL(ctx.databaseUrl).pathname.replace(/^\//, '');
  const argv = [
    'pg_restore', '--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction',
    ...(params.dataOnly === true ? ['--data-only'] : ['--clean', '--if-exists']),
    ...tables.map((t) => `--table=${t}`),
    `--dbname=${decodeURIComponent(dbname)}`, file,
  ];
  const r = await ctx.exec(argv, { env: pgEnv(ctx.databaseUrl), timeoutMs: ctx.step.timeoutMs, signal: ctx.signal });
  if (r.exitCode !== 0) throw new AppError(ErrorCode.StepFailed, `pg_restore exited ${r.exitCode}: ${lastLine(r.tail)}`, { tail: r.tail, exitCode: r.exitCode });
  const counts: string[] = [];
  for (const t of tables) {
    const { rows } = await ctx.db.query<{ n: string }>(`SELECT count(*) AS n FROM public.${t}`);
    counts.push(`${t}: ${rows[0]?.n ?? 0} rows`);
  }
  return { summary: `pg_restore ${params.dataOnly === true ? '--data-only' : '--clean --if-exists'} done${counts.length ? ` (${counts.join(', ')})` : ''}`, exitCode: 0, output: r.tail };
};

/** Puts Redis keys saved by redis-backup back: RESTORE key ttl dump REPLACE, keeping each key's TTL. */
export const redisRestore: Executor = async (params, ctx) => {
  await assertSelectedDb(ctx.redis, 'TARGET_REDIS_URL');
  const lines = readline.createInterface({ input: createReadStream(String(params.file), 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    if (!line.trim()) continue;
    if (ctx.signal.aborted) throw new AppError(ErrorCode.Cancelled, `cancelled after restoring ${n} keys`);
    const e = JSON.parse(line) as { key: string; ttl: number; dump: string };
    await ctx.redis.restore(e.key, Math.max(0, Math.trunc(e.ttl)), Buffer.from(e.dump, 'base64'), 'REPLACE');
    n++;
  }
  return { summary: `restored ${n} Redis keys (RESTORE … REPLACE, TTLs kept)`, keys: n };
};
