/**
 * Every set of rows a data step may touch, written once as fixed SQL. Steps name a selection and
 * carry only its parameters; user input never becomes SQL text. The preview, the backup and the
 * destructive statement all use the same `where`, so what was shown is exactly what is changed.
 */
export interface Selection {
  readonly table: string;
  /** Primary-key column used to batch deletes/updates. */
  readonly key: string;
  readonly where: string;
  /** Names of the step parameters bound to $1, $2, … in `where`. */
  readonly params: readonly string[];
  /**
   * `where` for keyset batches, with `$LAST` standing for the cursor (the last key done): the same
   * rows past the cursor, with the cursor repeated inside the subquery so the planner starts there
   * instead of rescanning the subquery's table from its first row on every batch.
   */
  readonly seek?: string;
  /** Columns shown as a sample in the preview. */
  readonly sample: string;
  readonly describe: (p: Record<string, unknown>) => string;
}

export const SELECTIONS = {
  'embeddings-of-supplier': {
    table: 'product_embeddings',
    key: 'supplier_item_id',
    where: 'supplier_item_id IN (SELECT id FROM supplier_items WHERE supplier_id = $1::uuid)',
    seek: 'supplier_item_id IN (SELECT id FROM supplier_items WHERE supplier_id = $1::uuid AND ($LAST::text IS NULL OR id > $LAST::uuid))',
    params: ['supplier'],
    sample: 'supplier_item_id',
    describe: (p) => `embeddings of supplier ${String(p.supplier)}`,
  },
  /** The runbook's preview SELECT for "revert automatic matches", with its source filter kept. */
  'ml-matches-since': {
    table: 'supplier_items',
    key: 'id',
    where:
      "product_id IS NOT NULL AND updated_at > $1::timestamptz AND EXISTS (SELECT 1 FROM parsing_logs pl WHERE pl.supplier_id = supplier_items.supplier_id AND pl.details->>'source' = 'ml-analyze')",
    params: ['since'],
    sample: 'id, product_id, name',
    describe: (p) => `ml-analyze matches since ${String(p.since)}`,
  },
  'ml-review-since': {
    table: 'match_review_queue',
    key: 'id',
    where: "metadata->>'source' = 'ml-analyze' AND created_at > $1::timestamptz",
    params: ['since'],
    sample: 'id, created_at',
    describe: (p) => `ml-analyze review-queue entries since ${String(p.since)}`,
  },
  'ml-parsing-logs': {
    table: 'parsing_logs',
    key: 'id',
    where: "details->>'source' = 'ml-analyze'",
    params: [],
    sample: 'id, supplier_id, created_at',
    describe: () => 'ml-analyze parsing logs',
  },
  'ml-review-all': {
    table: 'match_review_queue',
    key: 'id',
    where: "metadata->>'source' = 'ml-analyze'",
    params: [],
    sample: 'id, created_at',
    describe: () => 'ml-analyze review-queue entries',
  },
  'all-embeddings': {
    table: 'product_embeddings',
    key: 'supplier_item_id',
    where: 'true',
    params: [],
    sample: 'supplier_item_id',
    describe: () => 'all embeddings',
  },
} as const satisfies Record<string, Selection>;

export type SelectionName = keyof typeof SELECTIONS;

export function selection(name: unknown): Selection & { name: SelectionName } {
  if (typeof name !== 'string' || !(name in SELECTIONS)) throw new Error(`unknown selection ${String(name)}`);
  return { ...SELECTIONS[name as SelectionName], name: name as SelectionName };
}

export const bindParams = (sel: Selection, p: Record<string, unknown>): unknown[] => sel.params.map((k) => p[k]);

/** Renders the SQL with its parameters shown (for people, never executed). */
export function showSql(sql: string, values: readonly unknown[]): string {
  return sql.replace(/\$(\d+)/g, (m, i: string) => {
    const v = values[Number(i) - 1];
    return v === undefined ? m : `'${String(v).replace(/'/g, "''")}'`;
  });
}
