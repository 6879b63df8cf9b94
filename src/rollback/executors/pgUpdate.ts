import { AppError, ErrorCode } from '../../errors.js';
import { bindParams, selection } from '../selections.js';
import type { Executor } from '../types.js';
import { keyTypeOf, shortTransaction, type KeysetRow } from './pg.js';

/**
 * Reverts ML-Analyze's matches: product_id back to NULL, status to pending_match, in batches keyed
 * on id, each its own short transaction, with exactly the preview's WHERE (source = 'ml-analyze').
 * The rows leave the selection as they are updated, so each batch takes the next ones.
 */
export const pgRevertMatches: Executor = async (params, ctx) => {
  const sel = selection(params.selection);
  if (sel.table !== 'supplier_items') throw new AppError(ErrorCode.Internal, `revert applies to supplier_items, not ${sel.table}`);
  const batch = typeof params.batchSize === 'number' ? params.batchSize : ctx.config.data.batchSize;
  const values = bindParams(sel, params);
  const keyType = await keyTypeOf(ctx, 'supplier_items', 'id');
  const [lastParam, limitParam] = [`$${values.length + 1}`, `$${values.length + 2}`];
  // Keyset on id: each batch starts where the previous one ended, never rescanning reverted rows.
  const sql =
    `WITH batch AS (SELECT id FROM supplier_items WHERE (${sel.where}) AND (${lastParam}::text IS NULL OR id > ${lastParam}::${keyType}) ORDER BY id LIMIT ${limitParam}), ` +
    `upd AS (UPDATE supplier_items t SET product_id = NULL, status = 'pending_match', updated_at = now() FROM batch WHERE t.id = batch.id RETURNING 1) ` +
    `SELECT (SELECT count(*) FROM upd)::int AS n, (SELECT count(*) FROM batch)::int AS seen, (SELECT id::text FROM batch ORDER BY id DESC LIMIT 1) AS last`;
  let updated = 0;
  let longest = 0;
  let last: string | null = null;
  for (;;) {
    if (ctx.signal.aborted) throw new AppError(ErrorCode.Cancelled, `cancelled after reverting ${updated} matches`, { rows: updated });
    const row = await shortTransaction(ctx, async (q) => (await q(sql, [...values, last, batch])).rows[0] as KeysetRow, (ms) => (longest = Math.max(longest, ms)));
    updated += row.n;
    if (row.n > 0) ctx.progress(`${updated} matches reverted`);
    if (row.seen < batch || row.last === null) break;
    last = row.last;
  }
  return { summary: `reverted ${updated} ${sel.describe(params)} to pending_match in batches of ${batch} (longest transaction ${longest} ms)`, rows: updated };
};
