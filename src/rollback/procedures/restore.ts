import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError, ErrorCode } from '../../errors.js';
import { backupTableName, BACKUP_SCHEMA } from '../executors/pg.js';
import { pgEnv } from '../pgenv.js';
import { selection } from '../selections.js';
import { runTool } from '../targets/run.js';
import type { BackupRecord, Deps, Plan, PreviewLine, StepSpec } from '../types.js';
import { checklistStep, plural, seconds } from './common.js';

const FILE_RE = /\.(dump|jsonl)$/;

/** A name resolved inside the backups directory, never outside it (no traversal, no symlink escape). */
function insideDir(dir: string, name: string): string {
  const file = path.resolve(dir, name);
  const rel = path.relative(dir, file);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) throw new AppError(ErrorCode.BadInput, `backup ${name} is not inside the backups directory`);
  return file;
}

/** The bot's recorded backups and the dump/jsonl files in the configured directory, newest first. */
export async function listBackups(deps: Deps): Promise<Array<{ name: string; what: string }>> {
  const recorded: readonly BackupRecord[] = deps.backups ? await deps.backups() : [];
  const dir = path.resolve(deps.config.backups.directory);
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => FILE_RE.test(f));
  const known = new Set(recorded.map((b) => path.basename(b.location)));
  return [
    ...recorded.map((b) => ({ name: b.id, what: `${b.kind} of ${b.source || '?'} (${plural(b.rows, 'row')}), ${b.requestId}` })),
    ...files.filter((f) => !known.has(f)).sort().map((f) => ({ name: f, what: 'file in the backups directory' })),
  ];
}

type Source =
  | { type: 'rows'; record: BackupRecord; table: string; key: string; backupTable: string; mode: 'insert' | 'update' }
  | { type: 'dump'; file: string; record?: BackupRecord }
  | { type: 'redis'; file: string; record?: BackupRecord };

async function resolve(deps: Deps, name: string): Promise<Source> {
  const dir = path.resolve(deps.config.backups.directory);
  const recorded = deps.backups ? await deps.backups() : [];
  const record = recorded.find((b) => b.id === name || path.basename(b.location) === name);
  if (record?.kind === 'rows') {
    const sel = selection(record.source);
    return {
      type: 'rows', record, table: sel.table, key: sel.key, backupTable: backupTableName(record.requestId, sel.table),
      // A revert-matches backup holds the old values of rows that still exist: they are updated back.
      mode: record.source === 'ml-matches-since' ? 'update' : 'insert',
    };
  }
  const candidates = record ? [path.basename(record.location)] : FILE_RE.test(name) ? [name] : [`${name}.dump`, `${name}.jsonl`];
  for (const c of candidates) {
    const file = insideDir(dir, c);
    const s = await stat(file).catch(() => null);
    if (s?.isFile()) return file.endsWith('.jsonl') ? { type: 'redis', file, ...(record ? { record } : {}) } : { type: 'dump', file, ...(record ? { record } : {}) };
  }
  const names = (await listBackups(deps)).slice(0, 15).map((b) => b.name);
  throw new AppError(ErrorCode.NotFound, `no backup named ${name}. Known backups: ${names.join(', ') || 'none'}`);
}

async function rowCount(deps: Deps, qualified: string): Promise<number | null> {
  const { rows } = await deps.db.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [qualified]);
  if (!rows[0]?.t) return null;
  const r = await deps.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${rows[0].t}`);
  return Number(r.rows[0]?.n ?? 0);
}

export async function planRestore(deps: Deps, name: string, table: string | undefined): Promise<Plan> {
  const src = await resolve(deps, name);
  const preview: PreviewLine[] = [];
  const steps: StepSpec[] = [];
  const notes: string[] = [];
  if (src.type === 'rows') {
    if (table && table !== src.table) throw new AppError(ErrorCode.BadInput, `backup ${name} holds rows of ${src.table}, not ${table}`);
    const n = await rowCount(deps, `${BACKUP_SCHEMA}.${src.backupTable}`);
    if (n === null) throw new AppError(ErrorCode.NotFound, `the backup table ${BACKUP_SCHEMA}.${src.backupTable} is gone; its dump file is ${path.basename(src.record.location)}`);
    const { rows } = await deps.db.query<{ present: string }>(
      `SELECT count(*) AS present FROM ${BACKUP_SCHEMA}.${src.backupTable} b WHERE EXISTS (SELECT 1 FROM public.${src.table} t WHERE t.${src.key} = b.${src.key})`,
    );
    const present = Number(rows[0]?.present ?? 0);
    preview.push(
      { label: 'Backup', value: `${BACKUP_SCHEMA}.${src.backupTable}: ${plural(n, 'row')} of ${src.table} (made by ${src.record.requestId})` },
      {
        label: 'Replaces',
        value: src.mode === 'update'
          ? `${plural(present, 'row')} of ${src.table} get their backed-up values back (product_id, status, updated_at); ${plural(n - present, 'missing row')} inserted`
          : `nothing: ${plural(n - present, 'missing row')} inserted; ${plural(present, 'row')} still present are kept as they are (ON CONFLICT DO NOTHING)`,
      },
    );
    steps.push({
      id: 'restore-rows', kind: 'restore-rows', title: `Put ${plural(n, 'row')} back into ${src.table}`, risk: src.mode === 'update' ? 'destructive' : 'reversible', idempotent: true,
      timeoutMs: seconds(1800), params: { table: src.table, backupTable: src.backupTable, key: src.key, mode: src.mode },
      shows: [
        `INSERT INTO ${src.table} SELECT … FROM ${BACKUP_SCHEMA}.${src.backupTable} ON CONFLICT DO NOTHING`,
        ...(src.mode === 'update' ? [`UPDATE ${src.table} t SET … = b.… FROM ${BACKUP_SCHEMA}.${src.backupTable} b WHERE t.${src.key} = b.${src.key}`] : []),
        `in batches of ${deps.config.data.batchSize} keyed on ${src.key}`,
      ],
    });
  } else if (src.type === 'redis') {
    const lines = (await readFile(src.file, 'utf8')).split('\n').filter(Boolean);
    const keys = lines.map((l) => (JSON.parse(l) as { key: string }).key);
    const existing = keys.length ? await deps.redis.exists(...keys) : 0;
    preview.push({ label: 'Backup', value: `${path.basename(src.file)}: ${plural(keys.length, 'Redis key')}` }, { label: 'Replaces', value: `${plural(existing, 'key')} that exist now (RESTORE … REPLACE); the others are recreated` });
    steps.push({
      id: 'redis-restore', kind: 'redis-restore', title: `RESTORE ${plural(keys.length, 'key')} with their TTLs`, risk: 'reversible', idempotent: true, timeoutMs: seconds(300),
      params: { file: src.file }, shows: [`RESTORE key ttl <dump> REPLACE   for each line of ${path.basename(src.file)}`],
    });
  } else {
    const list = await runTool(deps, ['pg_restore', '--list', src.file], { env: pgEnv(deps.databaseUrl), timeoutMs: 30_000 }, 'pg_restore --list');
    const inDump = [...list.stdout.matchAll(/^\d+; \d+ \d+ TABLE (?!DATA )(\S+) (\S+) /gm)].map((m) => ({ schema: m[1]!, table: m[2]! }));
    if (!inDump.length) throw new AppError(ErrorCode.Precondition, `${path.basename(src.file)} holds no table`);
    const targets = table ? inDump.filter((t) => t.table === table) : inDump;
    if (!targets.length) throw new AppError(ErrorCode.BadInput, `${path.basename(src.file)} has no table ${table} (it has ${inDump.map((t) => t.table).join(', ')})`);
    if (targets.some((t) => t.schema !== 'public')) throw new AppError(ErrorCode.Precondition, `${path.basename(src.file)} holds tables outside schema public (${targets.map((t) => `${t.schema}.${t.table}`).join(', ')}); restore it by hand`);
    const tables = targets.map((t) => t.table);
    const current = await Promise.all(tables.map((t) => rowCount(deps, `public.${t}`)));
    // Below migration 007 the `vector` type is gone with its extension: the table cannot be recreated.
    if (tables.some((t, i) => t === 'product_embeddings' && current[i] === null)) {
      const { rowCount: hasVector } = await deps.db.query(`SELECT 1 FROM pg_type WHERE typname = 'vector'`);
      if (!hasVector) {
        throw new AppError(
          ErrorCode.Precondition,
          'product_embeddings cannot be recreated: the vector extension is gone (the database is below migration 007). Upgrade first (alembic upgrade 008, by hand or with a deploy), then restore. Nothing was run.',
        );
      }
    }
    const allExist = current.every((n) => n !== null);
    preview.push({ label: 'pg_restore --list', value: list.stdout.split('\n').filter((l) => l && !l.startsWith(';')).join('\n') });
    if (allExist) {
      preview.push({ label: 'Replaces', value: tables.map((t, i) => `all ${plural(current[i]!, 'row')} of ${t} (dumped first) with the dump's rows`).join('; ') });
      tables.forEach((t, i) => {
        if (current[i]! > 0) {
          steps.push(
            { id: `dump-${t}`, kind: 'pg-dump-table', title: `Dump ${t} as it is now (${plural(current[i]!, 'row')})`, risk: 'read-only', idempotent: true, timeoutMs: seconds(1800), params: { table: t }, shows: [`pg_dump --format=custom --table=public.${t}`] },
            { id: `truncate-${t}`, kind: 'pg-truncate', title: `Empty ${t}`, risk: 'destructive', idempotent: true, timeoutMs: seconds(120), params: { table: t }, shows: [`SET LOCAL lock_timeout = ${deps.config.data.lockTimeoutMs}; TRUNCATE TABLE ${t}`] },
          );
        }
      });
      notes.push('The tables exist: their current rows are dumped, the tables emptied, and the dump\'s rows loaded with pg_restore --data-only.');
    } else {
      preview.push({ label: 'Replaces', value: tables.map((t, i) => (current[i] === null ? `${t} does not exist: created from the dump` : `${t} (${plural(current[i]!, 'row')}) dropped and recreated from the dump`)).join('; ') });
      notes.push('A table is missing: pg_restore --clean --if-exists recreates the tables from the dump.');
    }
    const flags = allExist ? ['--data-only'] : ['--clean', '--if-exists'];
    steps.push({
      id: 'pg-restore', kind: 'pg-restore', title: `pg_restore ${flags.join(' ')} ${tables.map((t) => `--table=${t}`).join(' ')}`, risk: 'destructive', idempotent: allExist, timeoutMs: seconds(1800),
      params: { file: src.file, tables, dataOnly: allExist },
      shows: [`pg_restore --no-owner --no-privileges --exit-on-error --single-transaction ${flags.join(' ')} ${tables.map((t) => `--table=${t}`).join(' ')} --dbname=<marketbel> ${path.basename(src.file)}`],
    });
  }
  steps.push(checklistStep(deps));
  return {
    procedure: 'restore',
    args: { backup: name, ...(table ? { table } : {}) },
    title: `Restore ${name}${table ? ` (table ${table})` : ''}`,
    risk: steps.some((s) => s.risk === 'destructive') ? 'destructive' : 'reversible',
    steps,
    preview,
    notes,
  };
}
