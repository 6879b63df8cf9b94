import { describe, expect, it } from 'vitest';
import { migrateSandbox, runAlembic, seedMarketbel, SEED_COUNTS } from '../../src/sandbox/seed.js';
import { count, useScratchDatabase } from './scratch.js';

const SLOW = { timeout: 60_000 };
const TABLES = ['supplier_items', 'parsing_logs', 'match_review_queue', 'product_embeddings'];

describe('python-ingestion alembic fixture (real alembic, real PostgreSQL)', () => {
  const db = useScratchDatabase();

  const tables = async (): Promise<string[]> => {
    const { rows } = await db().client.query<{ t: string }>(
      "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    );
    return rows.map((r) => r.t);
  };
  const current = async (): Promise<string> => (await runAlembic(db().url, ['current'])).stdout.trim();
  const hasVectorExtension = async (): Promise<boolean> =>
    (await count(db().client, "SELECT 1 FROM pg_extension WHERE extname = 'vector'")) === 1;

  it('upgrade head creates the four marketbel tables and stops at 008', SLOW, async () => {
    const out = await migrateSandbox(db().url);
    expect(out).toContain('Running upgrade 007 -> 008');
    expect(await tables()).toEqual([...TABLES, 'alembic_version'].sort());
    expect(await current()).toBe('008 (head)');
  });

  it('history is the linear chain 001..008', SLOW, async () => {
    const { stdout } = await runAlembic(db().url, ['history']);
    const revs = [...stdout.matchAll(/^(\d{3}) -> (\d{3})/gm)].map((m) => `${m[1]}>${m[2]}`);
    expect(revs).toEqual(['007>008', '006>007', '005>006', '004>005', '003>004', '002>003', '001>002']);
  });

  it('embedding column is vector when the extension is installed, else real[]', SLOW, async () => {
    await migrateSandbox(db().url);
    const { rows } = await db().client.query<{ t: string }>(
      "SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'product_embeddings'::regclass AND attname = 'embedding'",
    );
    expect(rows[0]?.t).toBe((await hasVectorExtension()) ? 'vector' : 'real[]');
  });

  it('offline mode (--sql) emits the Phase 7 SQL without touching the database', SLOW, async () => {
    const { stdout } = await runAlembic(db().url, ['upgrade', '006:008', '--sql']);
    expect(stdout).toContain('CREATE EXTENSION IF NOT EXISTS vector');
    expect(stdout).toContain("UPDATE alembic_version SET version_num='008'");
    expect(await tables()).toEqual([]);
  });

  it('downgrade 006 FAILS while product_embeddings has rows: the vector extension cannot be dropped', SLOW, async (ctx) => {
    await migrateSandbox(db().url);
    await seedMarketbel(db().client);
    // Without the stand-in (or pgvector) the column is real[] and nothing depends on an extension.
    if (!(await hasVectorExtension())) ctx.skip();

    await expect(runAlembic(db().url, ['downgrade', '006'])).rejects.toThrow(
      /cannot drop extension vector because other objects depend on it/,
    );
    // The whole downgrade ran in one transaction, so nothing moved.
    expect(await current()).toBe('008 (head)');
    expect(await count(db().client, 'SELECT 1 FROM product_embeddings')).toBe(SEED_COUNTS.embeddings);
  });

  it('downgrade 006 works once product_embeddings is dropped (the runbook\'s workaround)', SLOW, async () => {
    await migrateSandbox(db().url);
    await seedMarketbel(db().client);
    await db().client.query('DROP TABLE IF EXISTS product_embeddings CASCADE');

    const { all } = await runAlembic(db().url, ['downgrade', '006']);
    expect(all).toContain('Running downgrade 007 -> 006');
    expect(await current()).toBe('006');
    expect(await hasVectorExtension()).toBe(false);
    expect(await tables()).toEqual(['alembic_version', 'match_review_queue', 'parsing_logs', 'supplier_items']);
    expect(await count(db().client, 'SELECT 1 FROM supplier_items')).toBe(SEED_COUNTS.supplierItems);
  });

  it('008 downgrade drops an empty product_embeddings but keeps one with rows', SLOW, async () => {
    await migrateSandbox(db().url);
    await runAlembic(db().url, ['downgrade', '-1']);
    expect(await current()).toBe('007');
    expect(await tables()).not.toContain('product_embeddings');

    await migrateSandbox(db().url);
    await seedMarketbel(db().client);
    await runAlembic(db().url, ['downgrade', '-1']);
    expect(await current()).toBe('007');
    expect(await count(db().client, 'SELECT 1 FROM product_embeddings')).toBe(SEED_COUNTS.embeddings);
  });

  it('downgrades are real: indexes and tables go away, and upgrade brings them back', SLOW, async () => {
    await migrateSandbox(db().url);
    const indexes = () => count(db().client, "SELECT 1 FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE 'ix_%'");
    expect(await indexes()).toBe(5);

    await runAlembic(db().url, ['downgrade', '003']);
    expect(await indexes()).toBe(0);
    await runAlembic(db().url, ['downgrade', 'base']);
    expect(await tables()).toEqual(['alembic_version']);

    await migrateSandbox(db().url);
    expect(await current()).toBe('008 (head)');
  });
});
