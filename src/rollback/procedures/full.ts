import { AppError, ErrorCode } from '../../errors.js';
import { composeBase } from '../targets/compose.js';
import { extensionDependents, outsideEmbeddings } from '../targets/extension.js';
import type { Deps, Plan, PreviewLine, StepSpec } from '../types.js';
import { checklistStep, plural, seconds } from './common.js';
import { countSelection } from './data.js';
import { backupRowsStep, deleteBatchedStep } from './dataSince.js';
import { healthGateStep } from './health.js';
import { migrationPart, type MigrationPart } from './migration.js';
import { planRedisClearJobs } from './redis.js';

const EXTENSION = 'vector';

/** The migration half of a full rollback, or null when the database is already at/below the target. */
async function migrationOrNone(deps: Deps): Promise<MigrationPart | null> {
  try {
    return await migrationPart(deps, { prePhase7: true });
  } catch (err) {
    if (err instanceof AppError && /already at|is not below the current revision/.test(err.message)) return null;
    throw err;
  }
}

/**
 * The runbook's full rollback, in its order, with a health gate between the steps: stop ML-Analyze,
 * migrate down to pre-Phase-7, clear its artifacts, clear its Redis jobs, verify the system.
 */
export async function planFull(deps: Deps, forceExtension: boolean): Promise<Plan> {
  const c = deps.config.targets.compose;
  const base = await composeBase(deps);
  const dependents = (await extensionDependents(deps, EXTENSION)) ?? [];
  const outside = outsideEmbeddings(dependents);
  if (outside.length && !forceExtension) {
    throw new AppError(
      ErrorCode.Precondition,
      `objects outside product_embeddings depend on the ${EXTENSION} extension: ${outside.map((d) => d.object).join('; ')}. Dropping the extension would drop them too; nothing was planned. Move them off the vector type first, or plan again with --force-extension (their tables are dumped first, then DROP EXTENSION … CASCADE).`,
    );
  }
  const foreignTables = [...new Set(outside.map((d) => d.relation).filter((r): r is string => r !== null))];
  if (forceExtension && outside.some((d) => d.relation === null || !d.relation.startsWith('public.'))) {
    throw new AppError(ErrorCode.Precondition, `--force-extension cannot back up these dependents (not tables in schema public): ${outside.filter((d) => !d.relation?.startsWith('public.')).map((d) => d.object).join('; ')}`);
  }
  const migration = await migrationOrNone(deps);
  const preview: PreviewLine[] = [
    { label: `Depends on ${EXTENSION}`, value: dependents.length ? dependents.map((d) => d.object).join('; ') : 'nothing (or the extension is not installed)' },
  ];
  const notes: string[] = [
    'A health gate (bun-api, frontend, SELECT 1, Redis PING) runs between the runbook\'s steps; a failure stops the run at that step.',
    'The runbook\'s `DROP EXTENSION IF EXISTS vector CASCADE` would silently drop every vector column anywhere: the dependents are listed first and the extension is dropped without CASCADE.',
  ];

  const steps: StepSpec[] = [
    {
      id: 'stop-ml-analyze', kind: 'command', title: `Step 1: stop ${c.service}`, risk: 'reversible', idempotent: true, timeoutMs: seconds(120),
      params: { argv: [...base, 'stop', c.service] }, shows: [[...base, 'stop', c.service].join(' ')], inverse: [...base, 'start', c.service].join(' '),
    },
    healthGateStep(deps, 'gate-after-stop', 'step 1'),
  ];

  const forced: StepSpec[] = forceExtension && outside.length
    ? [
        ...foreignTables.map((t): StepSpec => {
          const table = t.slice('public.'.length);
          return {
            id: `dump-${table}`, kind: 'pg-dump-table', title: `Dump ${table} (its vector columns go with the extension)`, risk: 'read-only', idempotent: true,
            timeoutMs: seconds(1800), params: { table }, shows: [`pg_dump --format=custom --table=public.${table}`],
          };
        }),
        {
          id: 'drop-extension-cascade', kind: 'pg-drop-extension', title: `DROP EXTENSION ${EXTENSION} CASCADE (forced; drops: ${outside.map((d) => d.object).join('; ')})`,
          risk: 'destructive', idempotent: true, timeoutMs: seconds(120),
          params: { extension: EXTENSION, cascade: true, expectDependents: dependents.map((d) => d.object) },
          shows: [`SET LOCAL lock_timeout = ${deps.config.data.lockTimeoutMs}; DROP EXTENSION IF EXISTS ${EXTENSION} CASCADE`],
          inverse: 'CREATE EXTENSION vector, then restore the dumps',
        },
      ]
    : [];
  if (forced.length) notes.push(`Forced: ${outside.map((d) => d.object).join('; ')} will be dropped with the extension, after their tables are dumped.`);

  if (migration) {
    const i = migration.steps.findIndex((s) => s.kind === 'alembic-downgrade');
    steps.push(...migration.steps.slice(0, i), ...forced, ...migration.steps.slice(i).map((s) => ({ ...s, title: `Step 2: ${s.title}` })));
    preview.push(...migration.preview);
    notes.push(...migration.notes);
  } else {
    steps.push(...forced);
    preview.push({ label: 'Migration', value: `already at or below ${deps.config.targets.alembic.prePhase7Revision}: no downgrade` });
  }
  steps.push(healthGateStep(deps, 'gate-after-migration', 'step 2'));

  steps.push(
    {
      id: 'drop-embeddings-table', kind: 'pg-drop-table', title: 'Step 3: DROP TABLE IF EXISTS product_embeddings', risk: 'destructive', idempotent: true,
      timeoutMs: seconds(120), params: { table: 'product_embeddings' }, shows: ['DROP TABLE IF EXISTS public.product_embeddings   (no CASCADE)'],
    },
    {
      id: 'drop-extension', kind: 'pg-drop-extension', title: `Step 3: DROP EXTENSION IF EXISTS ${EXTENSION} (no CASCADE: dependents were listed)`, risk: 'destructive', idempotent: true,
      timeoutMs: seconds(120), params: { extension: EXTENSION, cascade: false, expectDependents: dependents.map((d) => d.object) },
      shows: [`DROP EXTENSION IF EXISTS ${EXTENSION}`],
    },
  );
  for (const [name, id] of [['ml-parsing-logs', 'parsing-logs'], ['ml-review-all', 'review-queue']] as const) {
    const n = await countSelection(deps, name, {});
    preview.push({ label: `Step 3 ${id}`, value: `${plural(n, 'row')} with source = 'ml-analyze'` });
    if (n > 0) steps.push(backupRowsStep(deps, name, {}, n, `backup-${id}`), deleteBatchedStep(deps, name, {}, n, `delete-${id}`));
  }
  steps.push(healthGateStep(deps, 'gate-after-clear', 'step 3'));

  const redis = await planRedisClearJobs(deps);
  steps.push(...redis.steps.filter((s) => s.kind !== 'checklist').map((s) => ({ ...s, title: `Step 4: ${s.title}` })));
  preview.push(...redis.preview);
  notes.push(...redis.notes);

  steps.push({ ...healthGateStep(deps, 'verify-system', 'step 4'), title: 'Step 5: verify the system: bun-api, frontend, SELECT 1, Redis PING' }, checklistStep(deps));
  return {
    procedure: 'full',
    args: { forceExtension },
    title: `Full rollback of ML-Analyze${migration ? ` (database ${migration.current} → ${migration.target})` : ''}`,
    risk: 'destructive',
    steps,
    preview,
    notes,
  };
}
