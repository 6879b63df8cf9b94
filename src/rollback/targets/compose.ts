import path from 'node:path';
import { AppError, ErrorCode } from '../../errors.js';
import type { Deps } from '../types.js';

/**
 * Docker Compose v2 (`docker compose`) or v1 (`docker-compose`). `auto` asks each for its version,
 * v2 first, so the plan shows the exact binary that will run.
 */
export async function composeCommand(deps: Pick<Deps, 'exec' | 'config'>): Promise<string[]> {
  const configured = deps.config.targets.compose.command;
  if (configured !== 'auto') return configured.split(' ');
  for (const candidate of [['docker', 'compose'], ['docker-compose']]) {
    const r = await deps.exec([...candidate, 'version'], { timeoutMs: 10_000 }).catch(() => null);
    if (r?.exitCode === 0) return candidate;
  }
  throw new AppError(ErrorCode.Precondition, 'neither `docker compose` nor `docker-compose` works on this host; install one or set targets.compose.command');
}

/** `docker compose -f FILE [--project-directory DIR]`: the prefix of every compose call. */
export async function composeBase(deps: Pick<Deps, 'exec' | 'config'>): Promise<string[]> {
  const c = deps.config.targets.compose;
  return [
    ...(await composeCommand(deps)),
    ...(c.file ? ['-f', path.resolve(c.file)] : []),
    ...(c.projectDirectory ? ['--project-directory', path.resolve(c.projectDirectory)] : []),
  ];
}

/** The image of the running service, from `compose ps --format json` (one JSON object a line, or an array). */
export async function composeImage(deps: Pick<Deps, 'exec' | 'config'>, base: readonly string[]): Promise<string | null> {
  const service = deps.config.targets.compose.service;
  const r = await deps.exec([...base, 'ps', '--all', '--format', 'json', service], { timeoutMs: 20_000 }).catch(() => null);
  if (!r || r.exitCode !== 0) return null;
  const text = r.stdout.trim();
  if (!text) return null;
  try {
    const rows: unknown[] = text.startsWith('[') ? (JSON.parse(text) as unknown[]) : text.split('\n').map((l) => JSON.parse(l) as unknown);
    const row = rows.find((x) => (x as { Service?: string }).Service === service) as { Image?: string; State?: string } | undefined;
    return row?.Image ? `${row.Image} (${row.State ?? 'unknown'})` : null;
  } catch {
    return null;
  }
}
