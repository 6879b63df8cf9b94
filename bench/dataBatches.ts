/**
 * The longest single transaction of each data step on a table of a million rows.
 *
 *   npx tsx bench/dataBatches.ts [rows]
 *
 * Makes a scratch database (migrated with the real alembic fixture), fills supplier_items and
 * product_embeddings with `rows` rows each (default 1,000,000) and match_review_queue likewise,
 * runs the real executors against it and prints each step's duration and longest transaction.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { parseFileConfig } from '../src/config/file.js';
import { createLogger } from '../src/log.js';
import { createExec } from '../src/rollback/exec.js';
import { EXECUTORS } from '../src/rollback/executors/index.js';
import type { Deps, Json, StepContext } from '../src/rollback/types.js';
import { createScratchDatabase, dropDatabase, scratchDatabaseName } from '../src/sandbox/createDatabase.js';
import { migrateSandbox } from '../src/sandbox/seed.js';

const ADMIN_URL = process.env.SANDBOX_ADMIN_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const ROWS = Number(process.argv[2] ?? 1_000_000);
const SUPPLIER_ML = '11111111-1111-4111-8111-111111111111';
const SINCE = '2024-01-15T10:00:00Z';

async function fill(db: pg.Pool): Promise<void> {
  // 20 % of the items belong to the ml-analyze supplier; 10 % of all items were matched after SINCE.
  await db.query(
    `INSERT INTO supplier_items (id, supplier_id, product_id, name, status, updated_at)
     SELECT md5('i' || g)::uuid,
            CASE WHEN g % 5 = 0 THEN $1::uuid ELSE md5('s' || (g % 997))::uuid END,
            CASE WHEN g % 10 = 0 THEN md5('p' || g)::uuid END,
            'item ' || g,
            CASE WHEN g % 10 = 0 THEN 'matched' ELSE 'pending_match' END,
            CASE WHEN g % 10 = 0 THEN $2::timestamptz + (g || ' seconds')::interval ELSE $2::timestamptz - interval '2 days' END
       FROM generate_series(1, $3::int) g`,
    [SUPPLIER_ML, SINCE, ROWS],
  );
  await db.query(`INSERT INTO product_embeddings (supplier_item_id, embedding) SELECT id, ARRAY[0.1, 0.2, 0.3]::real[] FROM supplier_items`);
  await db.query(`INSERT INTO parsing_logs (supplier_id, details, created_at) VALUES ($1, '{"source":"ml-analyze"}', $2)`, [SUPPLIER_ML, SINCE]);
  await db.query(
    `INSERT INTO match_review_queue (created_at, metadata)
     SELECT $1::timestamptz + (g || ' seconds')::interval, jsonb_build_object('source', CASE WHEN g % 10 = 0 THEN 'ml-analyze' ELSE 'human' END)
       FROM generate_series(1, $2::int) g`,
    [SINCE, ROWS],
  );
  await db.query('ANALYZE');
}

async function main(): Promise<void> {
  const name = scratchDatabaseName('mlrb_bench');
  const url = await createScratchDatabase(ADMIN_URL, name);
  const backups = mkdtempSync(path.join(tmpdir(), 'mlrb-bench-'));
  const db = new pg.Pool({ connectionString: url, max: 4 });
  const redis = new Redis('redis://127.0.0.1:6379/15', { lazyConnect: true });
  try {
    await migrateSandbox(url, 'head');
    let t = performance.now();
    await fill(db);
    console.log(`filled ${ROWS} supplier_items, ${ROWS} product_embeddings, ${ROWS} match_review_queue rows in ${Math.round(performance.now() - t)} ms`);
    const config = parseFileConfig({ backups: { directory: backups } });
    const deps: Deps = {
      db, redis, exec: createExec(), config, databaseUrl: url, fetch: globalThis.fetch, now: () => new Date(), log: createLogger({ level: 'warn' }),
      serviceUrls: { mlAnalyze: 'http://127.0.0.1:9', bunApi: 'http://127.0.0.1:9', frontend: 'http://127.0.0.1:9' },
    };
    const run = async (label: string, kind: string, params: Record<string, Json>) => {
      const ctx: StepContext = {
        ...deps, requestId: 'R-1', signal: new AbortController().signal, progress: () => undefined,
        step: { id: kind, kind, title: label, risk: 'destructive', idempotent: true, timeoutMs: 3_600_000, params, shows: [] },
      };
      t = performance.now();
      const r = await EXECUTORS[kind]!(params, ctx);
      console.log(`${label.padEnd(46)} ${String(Math.round(performance.now() - t)).padStart(7)} ms  ${r.summary}`);
    };
    await run('backup rows: ml matches since (one read txn)', 'pg-backup-rows', { selection: 'ml-matches-since', since: SINCE });
    await run('revert-matches (UPDATE batches of 1000)', 'pg-revert-matches', { selection: 'ml-matches-since', since: SINCE, batchSize: 1000 });
    await run('backup rows: review queue since', 'pg-backup-rows', { selection: 'ml-review-since', since: SINCE });
    await run('clear-review-queue (DELETE batches of 1000)', 'pg-delete-batched', { selection: 'ml-review-since', since: SINCE, batchSize: 1000 });
    await run('backup rows: embeddings of one supplier', 'pg-backup-rows', { selection: 'embeddings-of-supplier', supplier: SUPPLIER_ML });
    await run('clear-embeddings --supplier (DELETE batches)', 'pg-delete-batched', { selection: 'embeddings-of-supplier', supplier: SUPPLIER_ML, batchSize: 1000 });
    await run('restore rows of revert-matches (UPDATE back)', 'restore-rows', { table: 'supplier_items', backupTable: 'r1_supplier_items', key: 'id', mode: 'update' });
    await run('pg_dump -Fc product_embeddings', 'pg-dump-table', { table: 'product_embeddings' });
    await run('TRUNCATE product_embeddings (one txn)', 'pg-truncate', { table: 'product_embeddings' });
  } finally {
    redis.disconnect();
    await db.end();
    await dropDatabase(ADMIN_URL, name);
    rmSync(backups, { recursive: true, force: true });
  }
}

await main();
