import type { Executor } from '../types.js';
import { checklist } from './checklist.js';
import { pgBackupRows, pgDeleteBatched, pgDumpTable, pgTruncate } from './pg.js';
import { redisBackup, redisClearPattern, redisUnlinkKeys } from './redis.js';

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
};
