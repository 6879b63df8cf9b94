import type { Executor } from '../types.js';
import { checklist } from './checklist.js';
import { pgBackupRows, pgDeleteBatched, pgDumpTable, pgTruncate } from './pg.js';
import { redisBackup, redisClearPattern, redisUnlinkKeys } from './redis.js';
import { alembicDowngrade } from './alembic.js';
import { command } from './command.js';
import { pgDropExtension, pgDropTable } from './ddl.js';
import { healthGate, waitHealthy } from './health.js';
import { k8sUndo } from './k8s.js';
import { pgRevertMatches } from './pgUpdate.js';
import { regenerate } from './regenerate.js';
import { pgRestore, redisRestore, restoreRows } from './restore.js';

/** Step kinds → behaviour. A stored plan names kinds; unknown kinds are refused before running. */
export const EXECUTORS: Readonly<Record<string, Executor>> = {
  checklist,
  'redis-backup': redisBackup,
  'redis-clear-pattern': redisClearPattern,
  'redis-unlink-keys': redisUnlinkKeys,
  'pg-backup-rows': pgBackupRows,
  'pg-dump-table': pgDumpTable,
  'pg-delete-batched': pgDeleteBatched,
  'pg-truncate': pgTruncate,
  'pg-revert-matches': pgRevertMatches,
  'pg-drop-table': pgDropTable,
  'pg-drop-extension': pgDropExtension,
  'pg-restore': pgRestore,
  'restore-rows': restoreRows,
  'redis-restore': redisRestore,
  command,
  'k8s-undo': k8sUndo,
  'alembic-downgrade': alembicDowngrade,
  'wait-healthy': waitHealthy,
  'health-gate': healthGate,
  regenerate,
};
