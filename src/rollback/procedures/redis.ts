import { assertSelectedDb } from '../../preflight.js';
import { countKeys } from '../executors/redis.js';
import type { Deps, Plan } from '../types.js';
import { checklistStep, plural, seconds } from './common.js';

export async function planRedisClearJobs(deps: Deps): Promise<Plan> {
  const { jobPattern, queueKeys, batchSize } = deps.config.targets.redis;
  await assertSelectedDb(deps.redis, 'TARGET_REDIS_URL');
  const jobs = await countKeys(deps.redis, jobPattern);
  const existing = queueKeys.length ? await deps.redis.exists(...queueKeys) : 0;
  return {
    procedure: 'redis clear-jobs',
    args: {},
    title: 'Clear ML-Analyze Redis jobs',
    risk: 'destructive',
    steps: [
      {
        id: 'backup-redis-jobs',
        kind: 'redis-backup',
        title: 'Back up the job keys (DUMP + TTL to a file)',
        risk: 'read-only',
        idempotent: true,
        timeoutMs: seconds(120),
        params: { pattern: jobPattern, keys: queueKeys },
        shows: [`SCAN 0 MATCH ${jobPattern} COUNT ${batchSize} … ; DUMP key ; PTTL key`, ...queueKeys.map((k) => `DUMP ${k}`)],
      },
      {
        id: 'unlink-job-keys',
        kind: 'redis-clear-pattern',
        title: `Unlink keys matching ${jobPattern}`,
        risk: 'destructive',
        idempotent: true,
        timeoutMs: seconds(300),
        params: { pattern: jobPattern, batchSize },
        shows: [`SCAN 0 MATCH ${jobPattern} COUNT ${batchSize} → UNLINK <batch of up to ${batchSize} keys>`],
        inverse: 'restore the backup file: RESTORE each key with its TTL',
      },
      {
        id: 'unlink-queue',
        kind: 'redis-unlink-keys',
        title: `Unlink the arq queue ${queueKeys.join(', ')}`,
        risk: 'destructive',
        idempotent: true,
        timeoutMs: seconds(30),
        params: { keys: queueKeys },
        shows: queueKeys.map((k) => `UNLINK ${k}`),
        inverse: 'restore the backup file',
      },
      checklistStep(deps),
    ],
    preview: [
      { label: 'Job keys', value: `${plural(jobs, 'key')} match ${jobPattern}` },
      { label: 'Queue', value: queueKeys.length ? `${queueKeys.join(', ')} (${existing ? 'present' : 'absent'})` : 'none configured' },
    ],
    notes: [
      'The runbook\'s `KEYS` blocks Redis and `DEL ml-analyze:job:*` deletes nothing (DEL does not expand patterns): SCAN + UNLINK in batches instead.',
      'The runbook\'s `redis-cli -a password` leaks the password to the process list: Redis is reached from the bot, never with a secret on a command line.',
    ],
  };
}
