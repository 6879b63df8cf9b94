import { AppError, ErrorCode } from '../../errors.js';
import { alembicOfflineSql, alembicState, lineage, type HistoryEntry } from '../targets/alembic.js';
import type { Deps, Json, Plan, PreviewLine, StepSpec } from '../types.js';
import { checklistStep, plural, seconds } from './common.js';

const SQL_PREVIEW_CHARS = 2500;

/** The revision that enables pgvector: `007` in the fixture, or the one whose message says so. */
const pgvectorRevision = (history: readonly HistoryEntry[]) =>
  history.find((h) => h.revision === '007' || h.revision.startsWith('007_'))?.revision ?? history.find((h) => /pgvector/i.test(h.message))?.revision;

export interface MigrationPart {
  readonly current: string;
  readonly target: string;
  readonly steps: StepSpec[];
  readonly preview: PreviewLine[];
  readonly notes: string[];
}

/**
 * The downgrade from the current revision to `target`, checked against `alembic history`, with the
 * offline SQL shown, and — when it passes below the pgvector revision while product_embeddings has
 * rows — a dump and DROP of that table first (008's downgrade keeps a non-empty table, so 007's
 * DROP EXTENSION would fail half-way: the runbook's warning).
 */
export async function migrationPart(deps: Deps, want: { steps?: number; to?: string; prePhase7?: boolean }): Promise<MigrationPart> {
  const { current, history } = await alembicState(deps);
  const known = new Set(history.map((h) => h.revision));
  const chain = lineage(history, current);
  let target: string;
  let how: string;
  if (want.steps !== undefined) {
    if (want.steps > chain.length) throw new AppError(ErrorCode.Precondition, `--steps ${want.steps}: the database is only ${plural(chain.length, 'revision')} above base (${current})`);
    target = chain[want.steps] ?? 'base';
    how = `-${want.steps} from ${current}`;
  } else {
    const rev = want.to ?? deps.config.targets.alembic.prePhase7Revision;
    const label = want.to ? `--to ${rev}` : `the configured pre-Phase-7 revision ${rev} (targets.alembic.prePhase7Revision)`;
    if (!known.has(rev)) throw new AppError(ErrorCode.BadInput, `${label} is not in alembic history (${[...known].reverse().join(', ')}); nothing was planned`);
    if (rev === current) throw new AppError(ErrorCode.Precondition, `the database is already at ${rev}; nothing to downgrade`);
    if (!chain.includes(rev)) throw new AppError(ErrorCode.Precondition, `${label} is not below the current revision ${current}; a downgrade cannot reach it`);
    target = rev;
    how = want.to ? `--to ${rev}` : `pre-Phase-7 (${rev})`;
  }
  const removed = chain.slice(0, target === 'base' ? chain.length : chain.indexOf(target));
  const sql = await alembicOfflineSql(deps, current, target);
  const steps: StepSpec[] = [];
  const notes: string[] = [];
  const preview: PreviewLine[] = [
    { label: 'alembic current', value: current },
    { label: 'alembic history', value: history.map((h) => `${h.down ?? '<base>'} -> ${h.revision}, ${h.message}`).join('\n') },
    { label: 'Downgrade', value: `${how}: ${current} → ${target} (undoes ${removed.join(', ')})` },
  ];
  const vec = pgvectorRevision(history);
  if (vec && removed.includes(vec)) {
    const { rows } = await deps.db.query<{ t: string | null }>("SELECT to_regclass('public.product_embeddings')::text AS t");
    const n = rows[0]?.t ? Number((await deps.db.query<{ n: string }>('SELECT count(*) AS n FROM product_embeddings')).rows[0]?.n ?? 0) : 0;
    if (n > 0) {
      steps.push(
        {
          id: 'dump-embeddings', kind: 'pg-dump-table', title: `Dump product_embeddings (${plural(n, 'row')}) before the downgrade`, risk: 'read-only', idempotent: true,
          timeoutMs: seconds(1800), params: { table: 'product_embeddings', expectRows: n, selection: 'all-embeddings' },
          shows: ['pg_dump --format=custom --table=public.product_embeddings'],
        },
        {
          id: 'drop-embeddings', kind: 'pg-drop-table', title: 'DROP TABLE product_embeddings (so 007 can drop the extension)', risk: 'destructive', idempotent: true,
          timeoutMs: seconds(120), params: { table: 'product_embeddings' },
          shows: [`SET LOCAL lock_timeout = ${deps.config.data.lockTimeoutMs}; DROP TABLE IF EXISTS public.product_embeddings`],
          inverse: 'after upgrading back to 007 or later (the vector type), /ml-rollback restore R-N-product_embeddings',
        },
      );
      preview.push({ label: 'Embeddings', value: `product_embeddings has ${plural(n, 'row')}: dumped, then dropped before the downgrade` });
      notes.push(`Downgrading ${vec} fails while product_embeddings has rows (008's downgrade keeps a non-empty table): the table is dumped and dropped first, as the runbook warns. No CASCADE: anything else depending on the table stops the step.`);
    }
  }
  const shownSql = sql.length > SQL_PREVIEW_CHARS ? `${sql.slice(0, SQL_PREVIEW_CHARS)}\n… (alembic downgrade --sql ${current}:${target} for the rest)` : sql;
  steps.push({
    id: 'alembic-downgrade', kind: 'alembic-downgrade', title: `alembic downgrade ${target}, then check alembic current`, risk: 'destructive', idempotent: false,
    timeoutMs: seconds(900), params: { target, expectCurrent: current },
    shows: [`alembic downgrade ${target}   (${how}; DATABASE_URL from the environment)`, `SQL (offline mode):\n${shownSql}`],
    inverse: `alembic upgrade ${current}`,
  });
  return { current, target, steps, preview, notes };
}

export async function planMigration(deps: Deps, args: { readonly [k: string]: Json }): Promise<Plan> {
  const part = await migrationPart(deps, {
    ...(typeof args.steps === 'number' ? { steps: args.steps } : {}),
    ...(typeof args.to === 'string' ? { to: args.to } : {}),
    ...(args.prePhase7 === true ? { prePhase7: true } : {}),
  });
  return {
    procedure: 'migration',
    args: { ...args, target: part.target },
    title: `Migration rollback: ${part.current} → ${part.target}`,
    risk: 'destructive',
    steps: [...part.steps, checklistStep(deps)],
    preview: part.preview,
    notes: [
      ...part.notes,
      ...(args.steps !== undefined ? [`\`downgrade -${String(args.steps)}\` is run as the absolute revision ${part.target}, so a database that moved after approval is not taken further than planned.`] : []),
      'The runbook\'s `alembic downgrade 006` / `pre_phase7_revision` are placeholders: the revision is configured and checked against alembic history before the plan is offered.',
    ],
  };
}
