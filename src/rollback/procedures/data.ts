import { AppError, ErrorCode } from '../../errors.js';
import { bindParams, selection, showSql, type SelectionName } from '../selections.js';
import { BACKUP_SCHEMA } from '../executors/pg.js';
import type { Deps, Plan, PreviewLine } from '../types.js';
import { checklistStep, plural, seconds } from './common.js';

export async function countSelection(deps: Deps, name: SelectionName, params: Record<string, unknown>): Promise<number> {
  const sel = selection(name);
  const { rows } = await deps.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${sel.table} WHERE ${sel.where}`, bindParams(sel, params));
  return Number(rows[0]?.n ?? 0);
}

export async function sampleSelection(deps: Deps, name: SelectionName, params: Record<string, unknown>, n = 3): Promise<string[]> {
  const sel = selection(name);
  const { rows } = await deps.db.query<Record<string, unknown>>(
    `SELECT ${sel.sample} FROM ${sel.table} WHERE ${sel.where} ORDER BY ${sel.key} LIMIT ${n}`,
    bindParams(sel, params),
  );
  return rows.map((r) => Object.values(r).map(String).join(' '));
}

export async function planClearEmbeddings(deps: Deps, args: { supplier?: string }): Promise<Plan> {
  const { batchSize, lockTimeoutMs } = deps.config.data;
  const total = await countSelection(deps, 'all-embeddings', {});
  const preview: PreviewLine[] = [];
  if (args.supplier) {
    const params = { supplier: args.supplier };
    const sel = selection('embeddings-of-supplier');
    const n = await countSelection(deps, 'embeddings-of-supplier', params);
    const { rows } = await deps.db.query<{ n: string }>('SELECT count(*) AS n FROM supplier_items WHERE supplier_id = $1::uuid', [args.supplier]);
    const items = Number(rows[0]?.n ?? 0);
    if (items === 0) throw new AppError(ErrorCode.Precondition, `no supplier items belong to supplier ${args.supplier}; nothing to clear`);
    if (n === 0) throw new AppError(ErrorCode.Precondition, `supplier ${args.supplier} has no embeddings; nothing to clear`);
    preview.push(
      { label: 'Deletes', value: `${plural(n, 'embedding')} of supplier ${args.supplier} (${plural(items, 'item')}; ${total} embeddings in all)` },
      { label: 'Sample', value: (await sampleSelection(deps, 'embeddings-of-supplier', params)).join(', ') },
      { label: 'Left alone', value: `${plural(total - n, 'embedding')} of other suppliers` },
    );
    const where = showSql(sel.where, bindParams(sel, params));
    const backup = `${BACKUP_SCHEMA}.<request>_${sel.table}`;
    return {
      procedure: 'data clear-embeddings',
      args: { supplier: args.supplier },
      title: `Clear embeddings of supplier ${args.supplier}`,
      risk: 'destructive',
      steps: [
        {
          id: 'backup-embeddings',
          kind: 'pg-backup-rows',
          title: `Back up the ${plural(n, 'embedding')} about to be deleted`,
          risk: 'reversible',
          idempotent: true,
          timeoutMs: seconds(600),
          params: { selection: 'embeddings-of-supplier', supplier: args.supplier, expectRows: n },
          shows: [`CREATE TABLE ${backup} AS SELECT * FROM product_embeddings WHERE ${where}`, `pg_dump --format=custom --table=${backup}`],
          inverse: 'drop the backup table (the dump file stays)',
        },
        {
          id: 'delete-embeddings',
          kind: 'pg-delete-batched',
          title: `Delete the embeddings in batches of ${batchSize}`,
          risk: 'destructive',
          idempotent: true,
          timeoutMs: seconds(1800),
          params: { selection: 'embeddings-of-supplier', supplier: args.supplier, batchSize },
          shows: [
            `SET LOCAL lock_timeout = ${lockTimeoutMs}; WITH batch AS (SELECT supplier_item_id FROM product_embeddings WHERE ${where} LIMIT ${batchSize}) DELETE FROM product_embeddings t USING batch WHERE t.supplier_item_id = batch.supplier_item_id — repeated until none remain`,
          ],
          inverse: 'restore the backup: /ml-rollback restore R-N-product_embeddings',
        },
        checklistStep(deps),
      ],
      preview,
      notes: ['A backup of exactly the rows deleted is taken first; `restore` brings them back.'],
    };
  }
  if (total === 0) throw new AppError(ErrorCode.Precondition, 'product_embeddings is already empty; nothing to clear');
  preview.push({ label: 'Deletes', value: `all ${plural(total, 'embedding')} (TRUNCATE)` });
  return {
    procedure: 'data clear-embeddings',
    args: {},
    title: 'Clear all embeddings',
    risk: 'destructive',
    steps: [
      {
        id: 'dump-embeddings',
        kind: 'pg-dump-table',
        title: 'Dump product_embeddings (pg_dump -Fc)',
        risk: 'read-only',
        idempotent: true,
        timeoutMs: seconds(1800),
        params: { table: 'product_embeddings', expectRows: total, selection: 'all-embeddings' },
        shows: ['pg_dump --format=custom --table=public.product_embeddings'],
      },
      {
        id: 'truncate-embeddings',
        kind: 'pg-truncate',
        title: 'TRUNCATE product_embeddings',
        risk: 'destructive',
        idempotent: true,
        timeoutMs: seconds(120),
        params: { table: 'product_embeddings' },
        shows: [`SET LOCAL lock_timeout = ${lockTimeoutMs}; TRUNCATE TABLE product_embeddings`],
        inverse: 'restore the dump: /ml-rollback restore R-N-product_embeddings',
      },
      checklistStep(deps),
    ],
    preview,
    notes: ['The whole table is dumped with pg_dump -Fc first; `restore` brings it back. Embeddings can also be regenerated.'],
  };
}
