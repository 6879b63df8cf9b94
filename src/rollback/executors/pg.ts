import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { withTransaction } from '../../db.js';
import { AppError, ErrorCode } from '../../errors.js';
import { pgEnv } from '../pgenv.js';
import { bindParams, selection } from '../selections.js';
import type { Executor, StepContext } from '../types.js';

export const BACKUP_SCHEMA = 'ml_rollback_backup';

/** `R-12` + `product_embeddings` → `r12_product_embeddings`: a valid, predictable identifier. */
export const backupTableName = (requestId: string, table: string) => `${requestId.toLowerCase().replace(/[^a-z0-9]/g, '')}_${table}`;

async function pgDump(ctx: StepContext, qualifiedTable: string, file: string): Promise<void> {
  const r = await ctx.exec(['pg_dump', '--format=custom', '--no-owner', '--no-privileges', `--table=${qualifiedTable}`, `--file=${file}`], {
    env: pgEnv(ctx.databaseUrl),
    timeoutMs: ctx.step.timeoutMs,
    signal: ctx.signal,
  });
  if (r.exitCode !== 0) throw new AppError(ErrorCode.StepFailed, `pg_dump exited ${r.exitCode}: ${r.tail}`, { tail: r.tail });
}

/**
 * Copies the rows a destructive step will remove into the backup schema, then writes that table to
 * a pg_dump file. Re-running replaces the copy, so the step is idempotent.
 */
export const pgBackupRows: Executor = async (params, ctx) => {
  const sel = selection(params.selection);
  const backupTable = backupTableName(ctx.requestId, sel.table);
  const qualified = `${BACKUP_SCHEMA}.${backupTable}`;
  const rows = await withTransaction(ctx.db, async (c) => {
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${BACKUP_SCHEMA}`);
    await c.query(`DROP TABLE IF EXISTS ${qualified}`);
    const res = await c.query(`CREATE TABLE ${qualified} AS SELECT * FROM ${sel.table} WHERE ${sel.where}`, bindParams(sel, params));
    // A copy must not depend on an extension (pgvector's `vector`): it would block dropping the
    // extension, or be dropped with it. Stored as real[], which casts back to vector on restore.
    const { rows: extCols } = await c.query<{ col: string }>(
      `SELECT a.attname AS col FROM pg_attribute a
        WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
          AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = a.atttypid AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e')`,
      [qualified],
    );
    for (const { col } of extCols) await c.query(`ALTER TABLE ${qualified} ALTER COLUMN "${col.replace(/"/g, '""')}" TYPE real[] USING "${col.replace(/"/g, '""')}"::real[]`);
    return res.rowCount ?? 0;
  });
  const dir = path.resolve(ctx.config.backups.directory);
  await mkdir(dir, { recursive: true });
  const id = `${ctx.requestId}-${sel.table}`;
  const file = path.join(dir, `${id}.dump`);
  await pgDump(ctx, qualified, file);
  return {
    summary: `backed up ${rows} rows of ${sel.table} to ${qualified} and ${path.basename(file)}`,
    rows,
    backup: { id, file, table: qualified, rows },
  };
};

/** pg_dump -Fc of a whole table (before a TRUNCATE or DROP). */
export const pgDumpTable: Executor = async (params, ctx) => {
  const table = String(params.table);
  const dir = path.resolve(ctx.config.backups.directory);
  await mkdir(dir, { recursive: true });
  const id = `${ctx.requestId}-${table}`;
  const file = path.join(dir, `${id}.dump`);
  const { rows } = await ctx.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  await pgDump(ctx, `public.${table}`, file);
  const n = Number(rows[0]?.n ?? 0);
  return { summary: `dumped ${table} (${n} rows) to ${path.basename(file)}`, rows: n, backup: { id, file, table: `public.${table}`, rows: n } };
};

/**
 * Deletes a selection in batches keyed on the primary key, each batch its own short transaction
 * with a lock timeout, so the live service is never blocked for long. Batches walk the key in
 * order (keyset), so a batch never rescans the rows earlier batches deleted. Reports the longest batch.
 */
export const pgDeleteBatched: Executor = async (params, ctx) => {
  const sel = selection(params.selection);
  const batch = typeof params.batchSize === 'number' ? params.batchSize : ctx.config.data.batchSize;
  const values = bindParams(sel, params);
  const keyType = await keyTypeOf(ctx, sel.table, sel.key);
  const [lastParam, limitParam] = [`$${values.length + 1}`, `$${values.length + 2}`];
  // The seek form is the same filter with the cursor inside its subquery (see Selection.seek).
  const where = 'seek' in sel && sel.seek ? sel.seek.replaceAll('$LAST', lastParam) : sel.where;
  const sql =
    `WITH batch AS (SELECT ${sel.key} FROM ${sel.table} WHERE (${where}) AND (${lastParam}::text IS NULL OR ${sel.key} > ${lastParam}::${keyType}) ORDER BY ${sel.key} LIMIT ${limitParam}), ` +
    `del AS (DELETE FROM ${sel.table} t USING batch WHERE t.${sel.key} = batch.${sel.key} RETURNING 1) ` +
    `SELECT (SELECT count(*) FROM del)::int AS n, (SELECT count(*) FROM batch)::int AS seen, (SELECT ${sel.key}::text FROM batch ORDER BY ${sel.key} DESC LIMIT 1) AS last`;
  let deleted = 0;
  let longest = 0;
  let last: string | null = null;
  for (;;) {
    if (ctx.signal.aborted) throw new AppError(ErrorCode.Cancelled, `cancelled after deleting ${deleted} rows`, { rows: deleted });
    const row = await shortTransaction(ctx, async (q) => (await q(sql, [...values, last, batch])).rows[0] as KeysetRow, (ms) => (longest = Math.max(longest, ms)));
    deleted += row.n;
    if (row.n > 0) ctx.progress(`${deleted} rows deleted`);
    if (row.seen < batch || row.last === null) break;
    last = row.last;
  }
  return { summary: `deleted ${deleted} ${sel.describe(params)} in batches of ${batch} (longest transaction ${longest} ms)`, rows: deleted };
};

export interface KeysetRow {
  readonly n: number;
  readonly seen: number;
  readonly last: string | null;
}

/** The key column's SQL type, for casting the keyset cursor (carried as text) back. */
export async function keyTypeOf(ctx: StepContext, table: string, key: string): Promise<string> {
  const { rows } = await ctx.db.query<{ t: string }>(
    'SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2 AND NOT attisdropped',
    [table, key],
  );
  if (!rows[0]) throw new AppError(ErrorCode.Precondition, `${table}.${key} does not exist`);
  return rows[0].t;
}

/** TRUNCATE with a lock timeout: it needs an exclusive lock and must not queue behind the service. */
export const pgTruncate: Executor = async (params, ctx) => {
  const table = String(params.table);
  const { rows } = await ctx.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  await shortTransaction(ctx, (q) => q(`TRUNCATE TABLE ${table}`, []), () => undefined);
  const n = Number(rows[0]?.n ?? 0);
  return { summary: `truncated ${table} (${n} rows)`, rows: n };
};

type Q = (sql: string, values: unknown[]) => Promise<{ rowCount: number | null; rows: unknown[] }>;

export async function shortTransaction<T>(ctx: StepContext, fn: (q: Q) => Promise<T>, onDuration: (ms: number) => void): Promise<T> {
  const started = performance.now();
  const out = await withTransaction(ctx.db, async (c) => {
    await c.query(`SET LOCAL lock_timeout = ${Math.trunc(ctx.config.data.lockTimeoutMs)}`);
    await c.query(`SET LOCAL statement_timeout = ${Math.trunc(Math.max(ctx.config.data.lockTimeoutMs * 10, 30_000))}`);
    return fn((sql, values) => c.query(sql, values));
  });
  onDuration(Math.round(performance.now() - started));
  return out;
}
