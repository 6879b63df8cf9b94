import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { stringify } from 'yaml';
import { main } from '../cli.js';
import { createScratchDatabase, databaseUrlFor, dropDatabase } from './createDatabase.js';
import { startFakeServices } from './fakeServices.js';
import { migrateSandbox, seedMarketbel, seedTargetRedis, SUPPLIER_A, SUPPLIER_B } from './seed.js';

/**
 * Brings up the local sandbox and runs the console on it: a fresh `ml_rollback_sandbox` database
 * migrated with the real alembic fixture and seeded, sample ML-Analyze jobs in Redis database 9,
 * stand-ins for docker/kubectl on PATH and for the HTTP services on loopback.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADMIN_URL = process.env.SANDBOX_ADMIN_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const DB_NAME = 'ml_rollback_sandbox';
const TARGET_REDIS_URL = process.env.SANDBOX_TARGET_REDIS_URL ?? 'redis://127.0.0.1:6379/9';

async function setUp(): Promise<NodeJS.ProcessEnv> {
  const say = (t: string) => process.stdout.write(`[sandbox] ${t}\n`);
  await dropDatabase(ADMIN_URL, DB_NAME).catch(() => undefined);
  const dbUrl = await createScratchDatabase(ADMIN_URL, DB_NAME);
  say(`database ${DB_NAME}: migrating with alembic (sandbox/python-ingestion)…`);
  await migrateSandbox(dbUrl, 'head');
  const db = new pg.Pool({ connectionString: dbUrl });
  const seeded = await seedMarketbel(db);
  await db.end();
  const redis = new Redis(TARGET_REDIS_URL);
  await redis.flushdb();
  const jobs = await seedTargetRedis(redis);
  await redis.quit();
  // ML-Analyze answers only while the docker stand-in says its container runs, so a stopped service
  // shows as down in the checklist, as it would in production.
  const cliState = path.join(ROOT, '.sandbox', 'cli-state.json');
  const services = await startFakeServices({
    isRunning: (service) => {
      try {
        const state = JSON.parse(readFileSync(cliState, 'utf8')) as { compose?: Record<string, { state?: string }> };
        return state.compose?.[service]?.state !== 'exited';
      } catch {
        return true;
      }
    },
  });
  const state = path.join(ROOT, '.sandbox');
  // A fresh sandbox numbers requests from R-1 again: backups of an earlier session would be mistaken for its own.
  rmSync(path.join(state, 'backups'), { recursive: true, force: true });
  mkdirSync(path.join(state, 'backups'), { recursive: true });
  // The docker/kubectl stand-ins start from their defaults on every run, like the database.
  for (const f of ['cli-state.json', 'cli-state.json.calls.jsonl']) rmSync(path.join(state, f), { force: true });
  const configFile = path.join(state, 'config.yml');
  writeFileSync(
    configFile,
    `# Written by the sandbox on each start; see config.example.yml for every setting.\n${stringify({
      channels: ['ml-analyze'],
      targets: {
        binPath: [path.join(ROOT, 'sandbox/bin')],
        // previousTag: what `container --compose` rolls back to without --tag (a tag the stand-in registry has).
        compose: { file: path.join(ROOT, 'sandbox/compose.yml'), service: 'ml-analyze', tagVariable: 'ML_ANALYZE_TAG', previousTag: '1.4.1' },
        // A namespace makes `container` (platform auto) use Kubernetes; `container --compose` still picks Compose.
        kubernetes: { deployment: 'ml-analyze', namespace: 'default' },
        alembic: { directory: path.join(ROOT, 'sandbox/python-ingestion'), command: ['/usr/bin/python3', '-m', 'alembic'], prePhase7Revision: '006' },
      },
      backups: { directory: path.join(state, 'backups') },
    })}`,
  );
  say(`sample data: ${seeded.counts.supplierItems} supplier items, embeddings of suppliers ${SUPPLIER_A} (120) and ${SUPPLIER_B} (40); ${jobs.jobKeys.length} ML-Analyze jobs in Redis`);
  say(`stand-in services: ML-Analyze ${services.urls.mlAnalyze}, bun-api ${services.urls.bunApi}, frontend ${services.urls.frontend}`);
  say(`try: verify · redis clear-jobs · data clear-embeddings --supplier ${SUPPLIER_A} · then: approve R-N --as bob`);
  say('also: container [--compose] · migration --pre-phase7 · data revert-matches --since 2024-01-15T10:00:00Z · full · regenerate --limit 100 · restore R-N-product_embeddings');
  return {
    ...process.env,
    DATABASE_URL: dbUrl,
    STATE_DATABASE_URL: databaseUrlFor(ADMIN_URL, DB_NAME),
    TARGET_REDIS_URL,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    QUEUE_PREFIX: 'ml-rollback-sandbox',
    ML_ROLLBACK_CONFIG: configFile,
    ML_ANALYZE_URL: services.urls.mlAnalyze,
    BUN_API_URL: services.urls.bunApi,
    FRONTEND_URL: services.urls.frontend,
    SANDBOX_STATE: path.join(state, 'cli-state.json'),
    SLACK_BOT_TOKEN: '',
    SLACK_APP_TOKEN: '',
    SLACK_SIGNING_SECRET: '',
  };
}

const env = await setUp();
process.env.SANDBOX_STATE = env.SANDBOX_STATE;
const code = await main(['console', ...process.argv.slice(2)], env);
process.exit(code);
