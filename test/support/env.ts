import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config/index.js';
import { parseFileConfig } from '../../src/config/file.js';
import { createLogger, type Logger } from '../../src/log.js';
import { databaseUrlFor, dropDatabase } from '../../src/sandbox/createDatabase.js';
import { migrateSandbox, seedMarketbel, seedTargetRedis } from '../../src/sandbox/seed.js';
import { Writable } from 'node:stream';

export const ADMIN_URL = process.env.SANDBOX_ADMIN_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ROOT = path.resolve(import.meta.dirname, '../..');

/** The template is named after what builds it, so a changed migration or seed makes a new one. */
function templateName(): string {
  const h = createHash('sha256');
  const versions = path.join(ROOT, 'sandbox/python-ingestion/migrations/versions');
  for (const f of readdirSync(versions).filter((n) => n.endsWith('.py')).sort()) h.update(f).update(readFileSync(path.join(versions, f)));
  h.update(readFileSync(path.join(ROOT, 'sandbox/python-ingestion/migrations/env.py')));
  h.update(readFileSync(path.join(ROOT, 'src/sandbox/seed.ts')));
  return `mlrb_tpl_${h.digest('hex').slice(0, 12)}`;
}
const TEMPLATE = templateName();

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * A migrated (real alembic, 001…008) and seeded marketbel template, made once per machine under an
 * advisory lock; every test database is a cheap copy of it.
 */
async function ensureTemplate(): Promise<void> {
  await admin(async (c) => {
    await c.query('SELECT pg_advisory_lock(hashtext($1))', [TEMPLATE]);
    try {
      const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [TEMPLATE]);
      if (rowCount) return;
      const building = `${TEMPLATE}_building`;
      await c.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${building}`);
      const url = databaseUrlFor(ADMIN_URL, building);
      await migrateSandbox(url, 'head');
      const pool = new pg.Pool({ connectionString: url });
      await seedMarketbel(pool);
      await pool.end();
      await c.query(`ALTER DATABASE ${building} RENAME TO ${TEMPLATE}`);
    } finally {
      await c.query('SELECT pg_advisory_unlock(hashtext($1))', [TEMPLATE]);
    }
  });
}

/** A fresh database for one test: a copy of the seeded template. */
export async function createTestDatabase(prefix = 'mlrb_t'): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  await ensureTemplate();
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await admin(async (c) => {
    // CREATE DATABASE … TEMPLATE needs the template to have no sessions; serialise the copies.
    await c.query('SELECT pg_advisory_lock(hashtext($1))', [TEMPLATE]);
    try {
      await c.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
    } finally {
      await c.query('SELECT pg_advisory_unlock(hashtext($1))', [TEMPLATE]);
    }
  });
  return { name, url: databaseUrlFor(ADMIN_URL, name), drop: () => dropDatabase(ADMIN_URL, name) };
}

/**
 * A Redis logical database (1…15) leased for one test, so the target's fixed key names
 * (`ml-analyze:job:*`) never collide between tests running in parallel.
 */
export async function leaseRedisDb(): Promise<{ url: string; db: number; release: () => Promise<void> }> {
  const ctl = new Redis(REDIS_URL);
  const token = randomBytes(6).toString('hex');
  try {
    for (let attempt = 0; attempt < 600; attempt++) {
      for (let db = 1; db <= 15; db++) {
        if ((await ctl.set(`mlrb-test-lease:${db}`, token, 'EX', 600, 'NX')) === 'OK') {
          const url = `${REDIS_URL}/${db}`;
          const r = new Redis(url);
          await r.flushdb();
          await r.quit();
          return {
            url,
            db,
            release: async () => {
              const c = new Redis(REDIS_URL);
              if ((await c.get(`mlrb-test-lease:${db}`)) === token) await c.del(`mlrb-test-lease:${db}`);
              await c.quit();
            },
          };
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('no free Redis database to lease');
  } finally {
    await ctl.quit();
  }
}

/** Log lines captured in memory, to assert on (and to grep for secrets). */
export function memoryLogger(level = 'debug'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  return { log: createLogger({ level, destination: dest }), lines };
}

export interface TestEnv {
  readonly databaseUrl: string;
  readonly targetRedisUrl: string;
  readonly redisUrl: string;
  readonly queuePrefix: string;
  readonly backupDir: string;
  readonly db: pg.Pool;
  readonly redis: Redis;
  /** Environment variables for the bot (in-process via loadConfig, or a spawned child). */
  env(extra?: Record<string, string>): Record<string, string>;
  config(extra?: Record<string, string>, file?: unknown): Config;
  cleanup(): Promise<void>;
}

/**
 * Everything one test needs, isolated: its own seeded marketbel database (the bot's state schema
 * inside it), a leased Redis database with sample ML-Analyze jobs, a queue prefix and a backup dir.
 */
export async function createTestEnv(opts: { seedRedis?: boolean } = {}): Promise<TestEnv> {
  const database = await createTestDatabase();
  const lease = await leaseRedisDb();
  const db = new pg.Pool({ connectionString: database.url, max: 4 });
  // Dropping the database at cleanup ends idle sessions; that is expected, not a test failure.
  db.on('error', () => undefined);
  const redis = new Redis(lease.url);
  if (opts.seedRedis !== false) await seedTargetRedis(redis);
  const queuePrefix = `mlrbq-${randomBytes(5).toString('hex')}`;
  const backupDir = mkdtempSync(path.join(tmpdir(), 'mlrb-backups-'));
  const env = (extra: Record<string, string> = {}) => ({
    DATABASE_URL: database.url,
    REDIS_URL: REDIS_URL,
    TARGET_REDIS_URL: lease.url,
    QUEUE_PREFIX: queuePrefix,
    LOG_LEVEL: 'warn',
    PROGRESS_INTERVAL_MS: '50',
    ...extra,
  });
  return {
    databaseUrl: database.url,
    targetRedisUrl: lease.url,
    redisUrl: REDIS_URL,
    queuePrefix,
    backupDir,
    db,
    redis,
    env,
    config: (extra = {}, file) => {
      const base = loadConfig(env(extra));
      const merged = parseFileConfig({
        ...(file as object | undefined),
        backups: { directory: backupDir },
        targets: {
          binPath: [path.join(ROOT, 'sandbox/bin')],
          alembic: { directory: path.join(ROOT, 'sandbox/python-ingestion'), command: ['/usr/bin/python3', '-m', 'alembic'], prePhase7Revision: '006' },
          compose: { file: path.join(ROOT, 'sandbox/compose.yml'), service: 'ml-analyze', tagVariable: 'ML_ANALYZE_TAG' },
          ...((file as { targets?: object } | undefined)?.targets ?? {}),
        },
      });
      return Object.freeze({ ...base, file: merged });
    },
    cleanup: async () => {
      await db.end().catch(() => undefined);
      await redis.flushdb().catch(() => undefined);
      await redis.quit().catch(() => undefined);
      await lease.release();
      await database.drop();
      rmSync(backupDir, { recursive: true, force: true });
    },
  };
}
