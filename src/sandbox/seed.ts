import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import pg from 'pg';
import type { Redis } from 'ioredis';

/** The python-ingestion alembic fixture (same relative path from src/ and dist/). */
export const PYTHON_INGESTION_DIR = fileURLToPath(new URL('../../sandbox/python-ingestion/', import.meta.url));
/** Debian's interpreter: it is the one with python3-alembic and python3-psycopg2. */
export const SANDBOX_PYTHON = '/usr/bin/python3';

export const SUPPLIER_A = '11111111-1111-4111-8111-111111111111';
export const SUPPLIER_B = '22222222-2222-4222-8222-222222222222';
export const SUPPLIER_C = '33333333-3333-4333-8333-333333333333';
/** The runbook's example instant, with the zone it lacks: matches after it are "in the window". */
export const SEED_SINCE = '2024-01-15T10:00:00Z';

/** What seedMarketbel inserts, so tests and previews can assert exact numbers. */
export const SEED_COUNTS = {
  itemsBySupplier: { [SUPPLIER_A]: 120, [SUPPLIER_B]: 40, [SUPPLIER_C]: 10 } as Readonly<Record<string, number>>,
  supplierItems: 170,
  embeddingsBySupplier: { [SUPPLIER_A]: 120, [SUPPLIER_B]: 40, [SUPPLIER_C]: 0 } as Readonly<Record<string, number>>,
  embeddings: 160,
  /** product_id set after SEED_SINCE for suppliers whose parsing_logs say ml-analyze (A 30 + B 12). */
  mlMatchesSince: 42,
  /** product_id set after SEED_SINCE by people (supplier C, parsing_logs source 'manual'). */
  humanMatchesSince: 5,
  /** ml-analyze matches older than SEED_SINCE (supplier A): outside every window. */
  matchesBefore: 10,
  parsingLogs: { mlAnalyze: 5, manual: 2 },
  reviewQueue: { mlAnalyzeSince: 15, mlAnalyzeBefore: 5, humanSince: 6 },
} as const;

interface SupplierPlan {
  id: string;
  idPrefix: string;
  items: number;
  withEmbeddings: boolean;
  matchedSince: number;
  matchedBefore: number;
  logSource: 'ml-analyze' | 'manual';
  logs: number;
}

const SUPPLIERS: readonly SupplierPlan[] = [
  { id: SUPPLIER_A, idPrefix: 'a0000000', items: 120, withEmbeddings: true, matchedSince: 30, matchedBefore: 10, logSource: 'ml-analyze', logs: 3 },
  { id: SUPPLIER_B, idPrefix: 'b0000000', items: 40, withEmbeddings: true, matchedSince: 12, matchedBefore: 0, logSource: 'ml-analyze', logs: 2 },
  { id: SUPPLIER_C, idPrefix: 'c0000000', items: 10, withEmbeddings: false, matchedSince: 5, matchedBefore: 0, logSource: 'manual', logs: 2 },
];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Tags the review-queue rows so a re-seed replaces them (the table has no supplier column). */
const FIXTURE_TAG = 'marketbel-seed';

/** Deterministic, valid-looking v4 UUIDs: `<prefix>-0000-4000-8000-<n>`. */
function fixedUuid(prefix: string, n: number): string {
  return `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

export interface SeedOptions {
  /** Start of the "bad deployment" window; defaults to SEED_SINCE. */
  since?: Date | string;
}

export interface SeedSummary {
  since: string;
  counts: typeof SEED_COUNTS;
}

/**
 * Inserts the deterministic marketbel sample into an already-migrated database.
 * Re-running replaces the previous sample (same ids) and leaves other rows alone.
 * Works whether product_embeddings.embedding is `vector` or `real[]`: a real[]
 * value is assignable to both (the stand-in domain and pgvector's assignment cast).
 */
export async function seedMarketbel(db: pg.ClientBase | pg.Pool, opts: SeedOptions = {}): Promise<SeedSummary> {
  const since = new Date(opts.since ?? SEED_SINCE);
  if (Number.isNaN(since.getTime())) throw new Error(`invalid since: ${String(opts.since)}`);
  const client = db instanceof pg.Pool ? await db.connect() : db;
  try {
    await client.query('BEGIN');
    await insertSample(client, since.getTime());
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    if (db instanceof pg.Pool) (client as pg.PoolClient).release();
  }
  return { since: since.toISOString(), counts: SEED_COUNTS };
}

async function insertSample(c: pg.ClientBase, t0: number): Promise<void> {
  const supplierIds = SUPPLIERS.map((s) => s.id);
  await c.query('DELETE FROM supplier_items WHERE supplier_id = ANY($1::uuid[])', [supplierIds]);
  await c.query('DELETE FROM parsing_logs WHERE supplier_id = ANY($1::uuid[])', [supplierIds]);
  await c.query("DELETE FROM match_review_queue WHERE metadata->>'fixture' = $1", [FIXTURE_TAG]);

  const items = { id: [] as string[], supplier: [] as string[], product: [] as (string | null)[], name: [] as string[], status: [] as string[], at: [] as string[] };
  const emb = { id: [] as string[], x: [] as number[], y: [] as number[], z: [] as number[] };
  let productN = 0;
  for (const s of SUPPLIERS) {
    for (let i = 0; i < s.items; i++) {
      const id = fixedUuid(s.idPrefix, i + 1);
      // First the in-window matches, then the older matches, then pending items.
      const inWindow = i < s.matchedSince;
      const before = !inWindow && i < s.matchedSince + s.matchedBefore;
      const matched = inWindow || before;
      items.id.push(id);
      items.supplier.push(s.id);
      items.product.push(matched ? fixedUuid('d0000000', ++productN) : null);
      items.name.push(`${s.idPrefix.slice(0, 1).toUpperCase()}-item ${i + 1}`);
      items.status.push(matched ? 'matched' : 'pending_match');
      const at = inWindow ? t0 + (i + 1) * MINUTE : before ? t0 - (i + 1) * HOUR : t0 - 24 * HOUR - i * MINUTE;
      items.at.push(new Date(at).toISOString());
      if (s.withEmbeddings) {
        emb.id.push(id);
        emb.x.push(((i % 10) + 1) / 10);
        emb.y.push(((i * 3) % 10) / 10);
        emb.z.push(((i * 7) % 10) / 10);
      }
    }
  }
  await c.query(
    `INSERT INTO supplier_items (id, supplier_id, product_id, name, status, updated_at)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::timestamptz[])`,
    [items.id, items.supplier, items.product, items.name, items.status, items.at],
  );
  await c.query(
    `INSERT INTO product_embeddings (supplier_item_id, embedding)
     SELECT id, ARRAY[x, y, z] FROM unnest($1::uuid[], $2::real[], $3::real[], $4::real[]) AS t(id, x, y, z)`,
    [emb.id, emb.x, emb.y, emb.z],
  );

  const logs = { supplier: [] as string[], details: [] as string[], at: [] as string[] };
  for (const s of SUPPLIERS) {
    for (let i = 0; i < s.logs; i++) {
      logs.supplier.push(s.id);
      logs.details.push(JSON.stringify({ source: s.logSource, run: i + 1, matched: Math.ceil(s.matchedSince / s.logs) }));
      logs.at.push(new Date(t0 + (i + 1) * 5 * MINUTE).toISOString());
    }
  }
  await c.query(
    `INSERT INTO parsing_logs (supplier_id, details, created_at)
     SELECT * FROM unnest($1::uuid[], $2::jsonb[], $3::timestamptz[])`,
    [logs.supplier, logs.details, logs.at],
  );

  const queue = { at: [] as string[], meta: [] as string[] };
  const addQueue = (n: number, source: string, offset: (i: number) => number): void => {
    for (let i = 0; i < n; i++) {
      queue.at.push(new Date(t0 + offset(i)).toISOString());
      queue.meta.push(JSON.stringify({ source, fixture: FIXTURE_TAG, reason: 'low_confidence' }));
    }
  };
  const rq = SEED_COUNTS.reviewQueue;
  addQueue(rq.mlAnalyzeSince, 'ml-analyze', (i) => (i + 1) * 2 * MINUTE);
  addQueue(rq.mlAnalyzeBefore, 'ml-analyze', (i) => -(i + 1) * HOUR);
  addQueue(rq.humanSince, 'human', (i) => (i + 1) * 3 * MINUTE);
  await c.query(
    `INSERT INTO match_review_queue (created_at, metadata)
     SELECT * FROM unnest($1::timestamptz[], $2::jsonb[])`,
    [queue.at, queue.meta],
  );
}

export const TARGET_REDIS_JOB_PATTERN = 'ml-analyze:job:*';
export const TARGET_REDIS_QUEUE_KEY = 'arq:queue:ml-analyze';
export const TARGET_REDIS_JOB_COUNT = 37;
/** Keys a correct clear must leave alone (one of them shares the `ml-analyze:` prefix). */
export const TARGET_REDIS_UNRELATED_KEYS = ['other:job:1', 'ml-analyze:config', 'arq:queue:other'] as const;

export interface TargetRedisSeed {
  jobKeys: string[];
  queueKey: string;
  queued: number;
  unrelatedKeys: string[];
}

/**
 * Fills the Redis that holds ml-analyze's jobs: job keys (hashes and strings,
 * because both exist in the wild), the arq queue zset and unrelated keys.
 */
export async function seedTargetRedis(
  redis: Redis,
  opts: { jobs?: number; queued?: number } = {},
): Promise<TargetRedisSeed> {
  const jobs = opts.jobs ?? TARGET_REDIS_JOB_COUNT;
  const queued = Math.min(opts.queued ?? 12, jobs);
  const t0 = Date.parse(SEED_SINCE);
  const jobKeys: string[] = [];
  const tx = redis.multi();
  tx.del(TARGET_REDIS_QUEUE_KEY, ...TARGET_REDIS_UNRELATED_KEYS);
  for (let i = 1; i <= jobs; i++) {
    const id = `merge-${String(i).padStart(4, '0')}`;
    const key = `ml-analyze:job:${id}`;
    const status = i <= queued ? 'pending' : 'completed';
    jobKeys.push(key);
    tx.del(key);
    if (i % 2 === 0) tx.hset(key, { job_id: id, status, progress: status === 'completed' ? '100' : '0' });
    else tx.set(key, JSON.stringify({ job_id: id, status, limit: 1000 }));
    if (i <= queued) tx.zadd(TARGET_REDIS_QUEUE_KEY, t0 + i * 1000, id);
  }
  tx.set('other:job:1', JSON.stringify({ job_id: '1', status: 'pending' }));
  tx.hset('ml-analyze:config', { model: 'embed-small', batch_size: '64' });
  tx.zadd('arq:queue:other', t0, 'other-1');
  await tx.exec();
  return { jobKeys, queueKey: TARGET_REDIS_QUEUE_KEY, queued, unrelatedKeys: [...TARGET_REDIS_UNRELATED_KEYS] };
}

export interface AlembicResult {
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved; alembic logs its progress ("Running upgrade …") to stderr. */
  all: string;
}

/**
 * Runs `alembic ARGS…` in the fixture directory. The database URL travels in
 * the environment, never in argv. Rejects with execa's error (exit code, stderr) on failure.
 */
export async function runAlembic(
  databaseUrl: string,
  args: readonly string[],
  opts: { cwd?: string; python?: string } = {},
): Promise<AlembicResult> {
  const result = await execa(opts.python ?? SANDBOX_PYTHON, ['-m', 'alembic', ...args], {
    cwd: opts.cwd ?? PYTHON_INGESTION_DIR,
    env: { DATABASE_URL: databaseUrl, PYTHONDONTWRITEBYTECODE: '1' },
    all: true,
  });
  return { stdout: result.stdout, stderr: result.stderr, all: result.all };
}

/** `alembic upgrade TARGET`; returns alembic's output (stdout and stderr, interleaved). */
export async function migrateSandbox(databaseUrl: string, target = 'head'): Promise<string> {
  return (await runAlembic(databaseUrl, ['upgrade', target])).all;
}
