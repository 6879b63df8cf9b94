import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { reachPostgres, reachRedis } from '../../src/preflight.js';
import { createRuntime } from '../../src/runtime.js';
import { silentNotifier } from '../../src/requests/notifier.js';
import { memoryLogger } from '../support/env.js';

// Port 1 on loopback: nothing listens there, so the connection is refused at once.
describe('start-up checks name the variable to fix', () => {
  it('an unreachable Redis or PostgreSQL is reported with its variable, and secrets in the URL are masked', async () => {
    await expect(reachRedis('redis://:s3cretpass@127.0.0.1:1/0', 'REDIS_URL')).rejects.toThrow(/^REDIS_URL: cannot reach Redis at redis:\/\/:\[REDACTED\]@127\.0\.0\.1:1\/0/);
    await expect(reachPostgres('postgresql://bot:s3cretpass@127.0.0.1:1/x', 'DATABASE_URL')).rejects.toThrow(/^DATABASE_URL: cannot reach PostgreSQL at postgresql:\/\/bot:\[REDACTED\]@/);
  });

  it('the runtime refuses to start with an unreachable REDIS_URL instead of queueing work nobody takes', async () => {
    const cfg = loadConfig({ REDIS_URL: 'redis://127.0.0.1:1', DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/postgres' });
    await expect(createRuntime(cfg, memoryLogger().log, { notifier: () => silentNotifier, runWorker: true })).rejects.toThrow(/^REDIS_URL: cannot reach Redis/);
  });

  it('URLs of the wrong kind are refused when the configuration is read', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x/db' })).toThrow(/DATABASE_URL: DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(() => loadConfig({ TARGET_REDIS_URL: 'http://x' })).toThrow(/TARGET_REDIS_URL: TARGET_REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(() => loadConfig({ ML_ANALYZE_URL: 'ftp://x' })).toThrow(/ML_ANALYZE_URL must be a http:\/\/ or https:\/\/ URL/);
  });
});

describe('a Redis URL naming a database the server does not have', () => {
  it('is refused at start and by every Redis step, instead of falling back to database 0', async () => {
    const { Redis } = await import('ioredis');
    await expect(reachRedis('redis://127.0.0.1:6379/99', 'TARGET_REDIS_URL')).rejects.toThrow(/^TARGET_REDIS_URL: Redis did not select database 99 \(the connection is on database 0\)/);
    const r = new Redis('redis://127.0.0.1:6379/99', { maxRetriesPerRequest: 1 });
    r.on('error', () => undefined);
    try {
      const { assertSelectedDb } = await import('../../src/preflight.js');
      await expect(assertSelectedDb(r, 'TARGET_REDIS_URL')).rejects.toThrow(/Nothing was touched/);
    } finally {
      r.disconnect();
    }
  });
});
