import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Redis } from 'ioredis';
import {
  migrateSandbox,
  seedMarketbel,
  seedTargetRedis,
  SEED_COUNTS,
  SEED_SINCE,
  SUPPLIER_A,
  SUPPLIER_B,
  SUPPLIER_C,
  TARGET_REDIS_JOB_COUNT,
  TARGET_REDIS_JOB_PATTERN,
  TARGET_REDIS_QUEUE_KEY,
  TARGET_REDIS_UNRELATED_KEYS,
} from '../../src/sandbox/seed.js';
import { count, useScratchDatabase } from './scratch.js';

const SLOW = { timeout: 60_000 };

// The runbook's preview SELECT (keeps the ml-analyze filter) and its UPDATE filter (drops it).
const PREVIEW = `SELECT si.id FROM supplier_items si
  WHERE si.product_id IS NOT NULL AND si.updated_at > $1
    AND EXISTS (SELECT 1 FROM parsing_logs pl WHERE pl.supplier_id = si.supplier_id AND pl.details->>'source' = 'ml-analyze')`;
const RUNBOOK_UPDATE_FILTER = 'SELECT id FROM supplier_items WHERE product_id IS NOT NULL AND updated_at > $1';

describe('seedMarketbel', () => {
  const db = useScratchDatabase();

  it('inserts the documented counts per supplier', SLOW, async () => {
    await migrateSandbox(db().url);
    const summary = await seedMarketbel(db().client);
    const c = db().client;
    expect(summary.since).toBe('2024-01-15T10:00:00.000Z');
    for (const s of [SUPPLIER_A, SUPPLIER_B, SUPPLIER_C]) {
      expect(await count(c, 'SELECT 1 FROM supplier_items WHERE supplier_id = $1', [s])).toBe(SEED_COUNTS.itemsBySupplier[s]);
      expect(
        await count(c, 'SELECT 1 FROM product_embeddings pe JOIN supplier_items si ON si.id = pe.supplier_item_id WHERE si.supplier_id = $1', [s]),
      ).toBe(SEED_COUNTS.embeddingsBySupplier[s]);
    }
    expect(await count(c, 'SELECT 1 FROM product_embeddings')).toBe(SEED_COUNTS.embeddings);
    expect(await count(c, "SELECT 1 FROM parsing_logs WHERE details->>'source' = 'ml-analyze'")).toBe(SEED_COUNTS.parsingLogs.mlAnalyze);
    expect(await count(c, "SELECT 1 FROM parsing_logs WHERE details->>'source' = 'manual' AND supplier_id = $1", [SUPPLIER_C])).toBe(
      SEED_COUNTS.parsingLogs.manual,
    );
    const rq = SEED_COUNTS.reviewQueue;
    expect(await count(c, "SELECT 1 FROM match_review_queue WHERE created_at > $1 AND metadata->>'source' = 'ml-analyze'", [SEED_SINCE])).toBe(rq.mlAnalyzeSince);
    expect(await count(c, "SELECT 1 FROM match_review_queue WHERE metadata->>'source' = 'human'")).toBe(rq.humanSince);
    expect(await count(c, 'SELECT 1 FROM match_review_queue')).toBe(rq.mlAnalyzeSince + rq.mlAnalyzeBefore + rq.humanSince);
  });

  it('puts human matches in the window, so the runbook\'s unfiltered UPDATE would over-reach', SLOW, async () => {
    await migrateSandbox(db().url);
    await seedMarketbel(db().client);
    const c = db().client;
    expect(await count(c, PREVIEW, [SEED_SINCE])).toBe(SEED_COUNTS.mlMatchesSince);
    expect(await count(c, RUNBOOK_UPDATE_FILTER, [SEED_SINCE])).toBe(SEED_COUNTS.mlMatchesSince + SEED_COUNTS.humanMatchesSince);
    expect(await count(c, 'SELECT 1 FROM supplier_items WHERE product_id IS NOT NULL AND updated_at <= $1', [SEED_SINCE])).toBe(
      SEED_COUNTS.matchesBefore,
    );
  });

  it('is deterministic and idempotent, and accepts a Pool and a custom window', SLOW, async () => {
    await migrateSandbox(db().url);
    const snapshot = async (): Promise<unknown[]> =>
      (await db().client.query('SELECT id, product_id, status, updated_at, embedding::real[] AS e FROM supplier_items LEFT JOIN product_embeddings ON supplier_item_id = id ORDER BY id')).rows;
    await seedMarketbel(db().client);
    const first = await snapshot();
    const pool = new pg.Pool({ connectionString: db().url, max: 2 });
    try {
      await seedMarketbel(pool);
    } finally {
      await pool.end();
    }
    expect(await snapshot()).toEqual(first);
    expect(await count(db().client, 'SELECT 1 FROM match_review_queue')).toBe(26);

    await seedMarketbel(db().client, { since: '2025-03-01T08:00:00+02:00' });
    expect(await count(db().client, PREVIEW, ['2025-03-01T06:00:00Z'])).toBe(SEED_COUNTS.mlMatchesSince);
  });
});

describe('seedTargetRedis', () => {
  // A dedicated logical database keeps these keys away from other suites' queues.
  const redis = new Redis({ host: '127.0.0.1', port: 6379, db: Number(process.env.SANDBOX_TEST_REDIS_DB ?? 14), lazyConnect: true });
  let created: string[] = [];
  beforeAll(() => redis.connect());
  afterAll(async () => {
    if (created.length) await redis.del(...created);
    await redis.quit();
  });

  it('creates the job keys, the arq queue and unrelated keys that must survive a clear', async () => {
    const seeded = await seedTargetRedis(redis);
    created = [...seeded.jobKeys, seeded.queueKey, ...seeded.unrelatedKeys];
    expect(seeded.jobKeys).toHaveLength(TARGET_REDIS_JOB_COUNT);
    expect(await redis.exists(...seeded.jobKeys)).toBe(TARGET_REDIS_JOB_COUNT);
    expect(seeded.jobKeys.every((k) => k.startsWith(TARGET_REDIS_JOB_PATTERN.slice(0, -1)))).toBe(true);
    expect(new Set(await Promise.all(seeded.jobKeys.slice(0, 2).map((k) => redis.type(k))))).toEqual(new Set(['string', 'hash']));
    expect(await redis.zcard(TARGET_REDIS_QUEUE_KEY)).toBe(seeded.queued);
    expect(await redis.exists(...TARGET_REDIS_UNRELATED_KEYS)).toBe(TARGET_REDIS_UNRELATED_KEYS.length);

    // The runbook's `DEL ml-analyze:job:*` is a literal key name: it deletes nothing.
    expect(await redis.del(TARGET_REDIS_JOB_PATTERN)).toBe(0);
  });
});
