import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runAlembic, SEED_COUNTS, SUPPLIER_B, TARGET_REDIS_JOB_COUNT, TARGET_REDIS_UNRELATED_KEYS } from '../../src/sandbox/seed.js';
import { count, createHarness, stepLines, type Harness } from './harness.js';

describe('full rollback: the runbook\'s five steps with health gates', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('stops ml-analyze, migrates to pre-Phase-7, clears artifacts and jobs, verifies; every destruction backed up', async () => {
    // An earlier backup of embeddings must not count as a dependent of the extension (it is stored as real[]).
    expect((await h.run('data clear-embeddings', { supplier: SUPPLIER_B })).outcome).toBe('succeeded');
    const r = await h.run('full', { forceExtension: false });
    expect(r.outcome, stepLines(r.plan, r.steps).join('\n')).toBe('succeeded');
    const ids = r.plan.steps.map((s) => s.id);
    expect(ids.indexOf('stop-ml-analyze')).toBe(0);
    expect(ids.indexOf('gate-after-stop')).toBeLessThan(ids.indexOf('alembic-downgrade'));
    expect(ids.indexOf('alembic-downgrade')).toBeLessThan(ids.indexOf('drop-extension'));
    expect(ids.indexOf('delete-review-queue')).toBeLessThan(ids.indexOf('unlink-job-keys'));
    expect(ids.slice(-2)).toEqual(['verify-system', 'health-checklist']);
    expect((h.sandbox().compose as Record<string, { state: string }>)['ml-analyze']!.state).toBe('exited');
    expect((await runAlembic(h.env.databaseUrl, ['current'])).stdout.trim()).toBe('006');
    expect(await count(h.env, "SELECT 1 FROM pg_extension WHERE extname = 'vector'")).toBe(0);
    expect(await count(h.env, "SELECT 1 FROM parsing_logs WHERE details->>'source' = 'ml-analyze'")).toBe(0);
    expect(await count(h.env, 'SELECT 1 FROM parsing_logs')).toBe(SEED_COUNTS.parsingLogs.manual);
    expect(await count(h.env, "SELECT 1 FROM match_review_queue WHERE metadata->>'source' = 'ml-analyze'")).toBe(0);
    expect(await count(h.env, 'SELECT 1 FROM match_review_queue')).toBe(SEED_COUNTS.reviewQueue.humanSince);
    expect(await h.env.redis.exists(...TARGET_REDIS_UNRELATED_KEYS)).toBe(TARGET_REDIS_UNRELATED_KEYS.length);
    const backups = (await h.store.backups()).filter((b) => b.requestId === r.req.id);
    expect(backups.map((b) => b.id).sort()).toEqual([`${r.req.id}-match_review_queue`, `${r.req.id}-parsing_logs`, `${r.req.id}-product_embeddings`, `${r.req.id}-redis-jobs`].sort());
    expect(backups.find((b) => b.kind === 'redis')?.rows).toBe(TARGET_REDIS_JOB_COUNT + 1);
    // Below 007 the embeddings dump cannot be loaded (no vector type): the restore plan says so up front.
    await expect(h.plan('restore', { backup: `${r.req.id}-product_embeddings` })).rejects.toThrow(/vector extension is gone .* Upgrade first/);
  });

  it('DESIGN §1 row 2: SCAN + UNLINK removes every job key (DEL of a pattern would remove none) and reports the count', async () => {
    const r = await h.run('redis clear-jobs');
    expect(r.outcome).toBe('succeeded');
    expect(r.steps.get(1)?.keys).toBe(TARGET_REDIS_JOB_COUNT);
    expect(r.steps.get(1)?.summary).toBe(`unlinked ${TARGET_REDIS_JOB_COUNT} keys matching ml-analyze:job:*`);
    expect(await h.env.redis.keys('ml-analyze:job:*')).toEqual([]);
    expect(await h.env.redis.exists(...TARGET_REDIS_UNRELATED_KEYS)).toBe(TARGET_REDIS_UNRELATED_KEYS.length);
    expect(r.plan.steps.flatMap((s) => s.shows).join('\n')).not.toMatch(/\bKEYS\b|\bDEL\b/);
  });

  it('DESIGN §1 row 3: Redis is reached from the bot\'s client: no redis-cli, no password on any command line or in the plan', async () => {
    const ran = h.argvs.length;
    const plan = await h.plan('redis clear-jobs');
    const r = await h.run('redis clear-jobs');
    expect(r.outcome).toBe('succeeded');
    expect(h.argvs.slice(ran)).toEqual([]);
    expect(JSON.stringify(plan.steps)).not.toMatch(/redis-cli|-a |redis:\/\//);
    expect(plan.notes.join(' ')).toMatch(/never with a secret on a command line/);
  });

  it('DESIGN §1 row 6: refuses while something outside product_embeddings depends on vector; --force-extension dumps it, then drops with CASCADE', async () => {
    await h.env.db.query('CREATE TABLE other_vectors (id int PRIMARY KEY, v vector)');
    await h.env.db.query("INSERT INTO other_vectors VALUES (1, '{1,2,3}')");
    await expect(h.plan('full', { forceExtension: false })).rejects.toThrow(/column v of table other_vectors.*--force-extension/);
    expect(await count(h.env, "SELECT 1 FROM pg_extension WHERE extname = 'vector'")).toBe(1);

    const r = await h.run('full', { forceExtension: true });
    expect(r.outcome, stepLines(r.plan, r.steps).join('\n')).toBe('succeeded');
    const ids = r.plan.steps.map((s) => s.id);
    expect(ids.indexOf('dump-other_vectors')).toBeLessThan(ids.indexOf('drop-extension-cascade'));
    expect(ids.indexOf('drop-extension-cascade')).toBeLessThan(ids.indexOf('alembic-downgrade'));
    expect(await count(h.env, "SELECT 1 FROM information_schema.columns WHERE table_name = 'other_vectors' AND column_name = 'v'")).toBe(0);
    expect((await h.store.backups()).some((b) => b.id === `${r.req.id}-other_vectors`)).toBe(true);
  });

  it('a failing health gate stops the run at that step', async () => {
    h.services.setHealthy('bun-api', false);
    const r = await h.run('full', { forceExtension: false });
    expect(r.outcome).toBe('failed');
    expect(r.req.error?.step).toBe(1);
    expect(r.steps.get(1)?.summary).toMatch(/health gate failed: bun-api \(GET .* → 503/);
    expect((await runAlembic(h.env.databaseUrl, ['current'])).stdout.trim()).toBe('008 (head)');
  });
});
