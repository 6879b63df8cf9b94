import { AppError, ErrorCode } from '../../errors.js';
import { BACKUP_SCHEMA } from '../executors/pg.js';
import { bindParams, selection, showSql, type SelectionName } from '../selections.js';
import type { Deps, Plan, StepSpec } from '../types.js';
import { checklistStep, plural, seconds } from './common.js';
import { countSelection, sampleSelection } from './data.js';

/** Backup of exactly the rows a selection holds, before they are changed or deleted. */
export function backupRowsStep(_deps: Deps, name: SelectionName, params: Record<string, string>, n: number, id: string): StepSpec {
  const sel = selection(name);
  const where = showSql(sel.where, bindParams(sel, params));
  const backup = `${BACKUP_SCHEMA}.<request>_${sel.table}`;
  return {
    id, kind: 'pg-backup-rows', title: `Back up the ${plural(n, 'row')} of ${sel.table} about to change`, risk: 'reversible', idempotent: true,
    timeoutMs: seconds(600), params: { selection: name, ...params, expectRows: n },
    shows: [`CREATE TABLE ${backup} AS SELECT * FROM ${sel.table} WHERE ${where}`, `pg_dump --format=custom --table=${backup}`],
    inverse: 'drop the backup table (the dump file stays)',
  };
}

export function deleteBatchedStep(deps: Deps, name: SelectionName, params: Record<string, string>, n: number, id: string): StepSpec {
  const sel = selection(name);
  const { batchSize, lockTimeoutMs } = deps.config.data;
  const where = showSql(sel.where, bindParams(sel, params));
  return {
    id, kind: 'pg-delete-batched', title: `Delete ${plural(n, 'row')} of ${sel.table} in batches of ${batchSize}`, risk: 'destructive', idempotent: true,
    timeoutMs: seconds(1800), params: { selection: name, ...params, batchSize, expectRows: n },
    shows: [`SET LOCAL lock_timeout = ${lockTimeoutMs}; WITH batch AS (SELECT ${sel.key} FROM ${sel.table} WHERE ${where} LIMIT ${batchSize}) DELETE FROM ${sel.table} t USING batch WHERE t.${sel.key} = batch.${sel.key} — repeated until none remain`],
    inverse: `restore the backup: /ml-rollback restore R-N-${sel.table}`,
  };
}

export async function planRevertMatches(deps: Deps, since: string): Promise<Plan> {
  const params = { since };
  const name = 'ml-matches-since';
  const sel = selection(name);
  const n = await countSelection(deps, name, params);
  if (n === 0) throw new AppError(ErrorCode.Precondition, `no supplier items were matched by ml-analyze after ${since}; nothing to revert`);
  const { rows } = await deps.db.query<{ n: string }>('SELECT count(*) AS n FROM supplier_items WHERE product_id IS NOT NULL AND updated_at > $1::timestamptz', [since]);
  const all = Number(rows[0]?.n ?? 0);
  const where = showSql(sel.where, bindParams(sel, params));
  const { batchSize, lockTimeoutMs } = deps.config.data;
  return {
    procedure: 'data revert-matches',
    args: { since },
    title: `Revert ${plural(n, 'ml-analyze match', 'ml-analyze matches')} made after ${since}`,
    risk: 'destructive',
    steps: [
      backupRowsStep(deps, name, params, n, 'backup-matches'),
      {
        id: 'revert-matches', kind: 'pg-revert-matches', title: `Set ${plural(n, 'match', 'matches')} back to pending_match in batches of ${batchSize}`, risk: 'destructive', idempotent: true,
        timeoutMs: seconds(1800), params: { selection: name, since, batchSize, expectRows: n },
        shows: [`SET LOCAL lock_timeout = ${lockTimeoutMs}; WITH batch AS (SELECT id FROM supplier_items WHERE ${where} ORDER BY id LIMIT ${batchSize}) UPDATE supplier_items t SET product_id = NULL, status = 'pending_match', updated_at = now() FROM batch WHERE t.id = batch.id — repeated until none remain`],
        inverse: 'restore the backup (old product_id, status, updated_at): /ml-rollback restore R-N-supplier_items',
      },
      checklistStep(deps),
    ],
    preview: [
      { label: 'Since', value: `${since} (UTC)` },
      { label: 'Reverts', value: `${plural(n, 'item')} matched by ml-analyze (parsing_logs source = 'ml-analyze')` },
      { label: 'Sample', value: (await sampleSelection(deps, name, params)).join(', ') },
      { label: 'Left alone', value: `${plural(all - n, 'other match', 'other matches')} in the window (made by people or other sources)` },
    ],
    notes: [
      "The runbook's UPDATE drops the preview's `source = 'ml-analyze'` filter and would also revert human matches: the bot's UPDATE uses exactly the preview's WHERE.",
      'The old product_id, status and updated_at are backed up first: `restore` puts them back.',
      '`--since` is an instant with a time zone, echoed here in UTC.',
    ],
  };
}

export async function planClearReviewQueue(deps: Deps, since: string): Promise<Plan> {
  const params = { since };
  const name = 'ml-review-since';
  const n = await countSelection(deps, name, params);
  if (n === 0) throw new AppError(ErrorCode.Precondition, `the review queue has no ml-analyze entries after ${since}; nothing to clear`);
  const { rows } = await deps.db.query<{ n: string }>('SELECT count(*) AS n FROM match_review_queue WHERE created_at > $1::timestamptz', [since]);
  const all = Number(rows[0]?.n ?? 0);
  return {
    procedure: 'data clear-review-queue',
    args: { since },
    title: `Clear ${plural(n, 'ml-analyze review-queue entry', 'ml-analyze review-queue entries')} after ${since}`,
    risk: 'destructive',
    steps: [backupRowsStep(deps, name, params, n, 'backup-review-queue'), deleteBatchedStep(deps, name, params, n, 'delete-review-queue'), checklistStep(deps)],
    preview: [
      { label: 'Since', value: `${since} (UTC)` },
      { label: 'Deletes', value: `${plural(n, 'entry', 'entries')} with metadata source = 'ml-analyze'` },
      { label: 'Sample', value: (await sampleSelection(deps, name, params)).join(', ') },
      { label: 'Left alone', value: `${plural(all - n, 'other entry', 'other entries')} in the window` },
    ],
    notes: ['Only entries whose metadata says source = ml-analyze are deleted; a backup of them is taken first.'],
  };
}
