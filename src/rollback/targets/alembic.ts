import { existsSync } from 'node:fs';
import path from 'node:path';
import { AppError, ErrorCode } from '../../errors.js';
import type { ExecResult } from '../exec.js';
import type { Deps } from '../types.js';
import { lastLine } from './run.js';

/**
 * Alembic in the configured python-ingestion directory (and its virtualenv, through
 * targets.alembic.command). The database URL travels as DATABASE_URL in the environment only.
 */
export async function alembic(deps: Pick<Deps, 'exec' | 'config' | 'databaseUrl'>, args: readonly string[], o: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ExecResult> {
  const a = deps.config.targets.alembic;
  const cwd = path.resolve(a.directory);
  if (!existsSync(path.join(cwd, 'alembic.ini'))) {
    throw new AppError(ErrorCode.Config, `targets.alembic.directory in ML_ROLLBACK_CONFIG: ${cwd} has no alembic.ini; point it at the python-ingestion service`);
  }
  // Without a configured command: the project's virtualenv (the runbook's `source venv/bin/activate`), else PATH.
  const venv = path.join(cwd, 'venv/bin/alembic');
  const command = a.command ?? (existsSync(venv) ? [venv] : ['alembic']);
  return deps.exec([...command, ...args], {
    cwd,
    env: { DATABASE_URL: deps.databaseUrl, PYTHONDONTWRITEBYTECODE: '1' },
    timeoutMs: o.timeoutMs ?? 60_000,
    ...(o.signal ? { signal: o.signal } : {}),
  });
}

/** A revision this code does not know: alembic's own words, turned into what to do next. */
function explain(r: ExecResult, what: string): AppError {
  const unknown = /Can't locate revision identified by '([^']+)'/.exec(r.tail);
  if (unknown) {
    return new AppError(
      ErrorCode.Precondition,
      `alembic cannot locate revision ${unknown[1]}: the database is at a revision the deployed python-ingestion code does not have (removed by a code rollback?). Deploy code that contains it, or fix alembic_version by hand; nothing was run.`,
      { tail: r.tail },
    );
  }
  return new AppError(ErrorCode.StepFailed, `alembic ${what} exited ${r.exitCode}: ${lastLine(r.tail)}`, { tail: r.tail });
}

export interface HistoryEntry {
  readonly revision: string;
  readonly down: string | null;
  readonly message: string;
}

const revisionsOf = (text: string): string[] => [...text.matchAll(/^([A-Za-z0-9_]+)(?:\s|$)/gm)].map((m) => m[1]!);

export async function alembicCurrent(deps: Pick<Deps, 'exec' | 'config' | 'databaseUrl'>, signal?: AbortSignal): Promise<string[]> {
  const r = await alembic(deps, ['current'], signal ? { signal } : {});
  if (r.exitCode !== 0) throw explain(r, 'current');
  return revisionsOf(r.stdout);
}

export async function alembicHeads(deps: Pick<Deps, 'exec' | 'config' | 'databaseUrl'>): Promise<string[]> {
  const r = await alembic(deps, ['heads']);
  if (r.exitCode !== 0) throw explain(r, 'heads');
  return revisionsOf(r.stdout);
}

export async function alembicHistory(deps: Pick<Deps, 'exec' | 'config' | 'databaseUrl'>): Promise<HistoryEntry[]> {
  const r = await alembic(deps, ['history']);
  if (r.exitCode !== 0) throw explain(r, 'history');
  const out: HistoryEntry[] = [];
  for (const m of r.stdout.matchAll(/^(\S+) -> ([A-Za-z0-9_]+)(?: \([a-z]+\))*,\s*(.*)$/gm)) {
    out.push({ down: m[1] === '<base>' ? null : m[1]!, revision: m[2]!, message: m[3]!.trim() });
  }
  return out;
}

/** The SQL alembic would run, from offline mode; nothing touches the database. */
export async function alembicOfflineSql(deps: Pick<Deps, 'exec' | 'config' | 'databaseUrl'>, from: string, to: string): Promise<string> {
  const r = await alembic(deps, ['downgrade', '--sql', `${from}:${to}`]);
  if (r.exitCode !== 0) throw explain(r, 'downgrade --sql');
  return r.stdout.trim();
}

/**
 * Current revision, history and heads, refusing the states where `downgrade` would be ambiguous
 * or fail half-way: several heads, several current revisions, or nothing applied.
 */
export async function alembicState(deps: Pick<Deps, 'exec' | 'config' | 'databaseUrl'>): Promise<{ current: string; history: HistoryEntry[]; heads: string[] }> {
  // Three independent reads at once: each alembic start costs a second or more.
  const [h, c, hist] = await Promise.allSettled([alembicHeads(deps), alembicCurrent(deps), alembicHistory(deps)]);
  if (h.status === 'rejected') throw h.reason;
  const heads = h.value;
  if (heads.length > 1) {
    throw new AppError(ErrorCode.Precondition, `alembic has ${heads.length} heads (${heads.join(', ')}): a downgrade would be ambiguous. Merge the heads (alembic merge) or downgrade by hand; nothing was planned.`);
  }
  if (c.status === 'rejected') throw c.reason;
  if (hist.status === 'rejected') throw hist.reason;
  const current = c.value;
  if (current.length === 0) throw new AppError(ErrorCode.Precondition, 'the database has no alembic revision (alembic current is empty): nothing to downgrade');
  if (current.length > 1) throw new AppError(ErrorCode.Precondition, `the database is at several revisions (${current.join(', ')}); downgrade by hand`);
  return { current: current[0]!, history: hist.value, heads };
}

/** current, its parent, … down to the first revision. */
export function lineage(history: readonly HistoryEntry[], from: string): string[] {
  const down = new Map(history.map((h) => [h.revision, h.down]));
  const out: string[] = [];
  for (let r: string | null | undefined = from; r; r = down.get(r)) {
    if (out.includes(r)) break;
    out.push(r);
  }
  return out;
}
