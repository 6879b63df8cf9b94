import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/rollback/command.js';
import { SEED_COUNTS, SEED_SINCE, SUPPLIER_A, SUPPLIER_C } from '../../src/sandbox/seed.js';
import { count, createHarness, stepLines, type Harness } from './harness.js';

type Row = Record<string, unknown>;
const rows = async (h: Harness, sql: string): Promise<Row[]> => (await h.env.db.query<Row>(sql)).rows;
const items = (h: Harness) => rows(h, 'SELECT id, supplier_id, product_id, name, status, updated_at FROM supplier_items ORDER BY id');

describe('data recovery: revert-matches and clear-review-queue', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('DESIGN §1 row 4: reverts only ml-analyze matches (the preview\'s filter); human matches stay; restore puts every old value back', async () => {
    const before = await items(h);
    const r = await h.run('data revert-matches', { since: SEED_SINCE });
    expect(r.outcome, stepLines(r.plan, r.steps).join('\n')).toBe('succeeded');
    expect(r.plan.preview.find((p) => p.label === 'Reverts')?.value).toContain(`${SEED_COUNTS.mlMatchesSince} items`);
    expect(r.plan.preview.find((p) => p.label === 'Left alone')?.value).toContain(`${SEED_COUNTS.humanMatchesSince} other matches`);
    expect(r.steps.get(1)?.rows).toBe(SEED_COUNTS.mlMatchesSince);
    const human = await count(h.env, 'SELECT 1 FROM supplier_items WHERE supplier_id = $1 AND product_id IS NOT NULL', [SUPPLIER_C]);
    expect(human).toBe(SEED_COUNTS.humanMatchesSince);
    expect(await count(h.env, "SELECT 1 FROM supplier_items WHERE product_id IS NOT NULL AND updated_at > $1 AND supplier_id <> $2", [SEED_SINCE, SUPPLIER_C])).toBe(0);
    expect(await count(h.env, "SELECT 1 FROM supplier_items WHERE supplier_id = $1 AND product_id IS NOT NULL", [SUPPLIER_A])).toBe(SEED_COUNTS.matchesBefore);

    const backup = r.steps.get(0)!;
    expect(backup.summary).toMatch(/backed up 42 rows of supplier_items/);
    const restored = await h.run('restore', { backup: `${r.req.id}-supplier_items` });
    expect(restored.outcome, stepLines(restored.plan, restored.steps).join('\n')).toBe('succeeded');
    expect(restored.plan.preview.find((p) => p.label === 'Replaces')?.value).toMatch(/42 rows of supplier_items get their backed-up values back/);
    expect(await items(h)).toEqual(before);
  });

  it('a revert whose preview count changed between approval and run stops before touching anything', async () => {
    const r = await h.run('data revert-matches', { since: SEED_SINCE }, async () => {
      await h.env.db.query(`UPDATE supplier_items SET product_id = gen_random_uuid(), status = 'matched', updated_at = now() WHERE id = (SELECT id FROM supplier_items WHERE supplier_id = $1 AND product_id IS NULL ORDER BY id LIMIT 1)`, [SUPPLIER_A]);
    });
    expect(r.outcome).toBe('failed');
    expect(r.req.error?.code).toBe('plan_changed');
    expect(r.req.error?.message).toMatch(/expected 42 rows but there are now 43/);
    expect(r.steps.size).toBe(0);
    expect(await count(h.env, 'SELECT 1 FROM supplier_items WHERE product_id IS NOT NULL')).toBe(SEED_COUNTS.mlMatchesSince + SEED_COUNTS.humanMatchesSince + SEED_COUNTS.matchesBefore + 1);
  });

  it('clear-review-queue deletes only ml-analyze entries after --since, with a backup restore brings back row for row', async () => {
    const before = await rows(h, 'SELECT * FROM match_review_queue ORDER BY id');
    const r = await h.run('data clear-review-queue', { since: SEED_SINCE });
    expect(r.outcome, stepLines(r.plan, r.steps).join('\n')).toBe('succeeded');
    expect(r.steps.get(1)?.rows).toBe(SEED_COUNTS.reviewQueue.mlAnalyzeSince);
    expect(await count(h.env, 'SELECT 1 FROM match_review_queue')).toBe(SEED_COUNTS.reviewQueue.mlAnalyzeBefore + SEED_COUNTS.reviewQueue.humanSince);
    const restored = await h.run('restore', { backup: `${r.req.id}-match_review_queue` });
    expect(restored.outcome, stepLines(restored.plan, restored.steps).join('\n')).toBe('succeeded');
    expect(await rows(h, 'SELECT * FROM match_review_queue ORDER BY id')).toEqual(before);
  });
});

describe('DESIGN §1 row 5', () => {
  it('--since needs a zone and the plan echoes the instant in UTC', () => {
    expect(() => parseCommand('data revert-matches --since "2024-01-15 10:00:00"')).toThrow(/has no time zone/);
    const cmd = parseCommand('data revert-matches --since 2024-01-15T11:00:00+01:00');
    expect(cmd).toMatchObject({ kind: 'procedure', args: { since: '2024-01-15T10:00:00.000Z' } });
  });
});

describe('DESIGN §1 row 9: every destructive data step is preceded by a backup that restore brings back', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const embeddings = (x: Harness) => rows(x, 'SELECT supplier_item_id, embedding::real[] AS e FROM product_embeddings ORDER BY 1');

  it('clear-embeddings --supplier, then restore the named backup: identical rows', async () => {
    const before = await embeddings(h);
    const r = await h.run('data clear-embeddings', { supplier: SUPPLIER_A });
    expect(r.outcome).toBe('succeeded');
    expect((await embeddings(h)).length).toBe(SEED_COUNTS.embeddings - 120);
    const named = (await h.store.backups()).find((b) => b.requestId === r.req.id)!;
    expect(named.id).toBe(`${r.req.id}-product_embeddings`);
    const restored = await h.run('restore', { backup: named.id });
    expect(restored.outcome, stepLines(restored.plan, restored.steps).join('\n')).toBe('succeeded');
    expect(await embeddings(h)).toEqual(before);
  });

  it('clear-embeddings (TRUNCATE), then the undo the plan prints (restore of the pg_dump, no --table): identical rows', async () => {
    const before = await embeddings(h);
    const r = await h.run('data clear-embeddings', {});
    expect(r.outcome).toBe('succeeded');
    expect(await count(h.env, 'SELECT 1 FROM product_embeddings')).toBe(0);
    expect(r.plan.steps.find((s) => s.kind === 'pg-truncate')?.inverse).toContain('restore R-N-product_embeddings');
    // pg_restore --list names the table twice (TABLE and TABLE DATA); only the first is a table.
    const restored = await h.run('restore', { backup: `${r.req.id}-product_embeddings` });
    expect(restored.outcome, stepLines(restored.plan, restored.steps).join('\n')).toBe('succeeded');
    expect(restored.plan.preview.find((p) => p.label === 'pg_restore --list')?.value).toMatch(/TABLE DATA public product_embeddings/);
    expect(restored.plan.steps.find((s) => s.kind === 'pg-restore')?.params.dataOnly).toBe(true);
    expect(await embeddings(h)).toEqual(before);
  });

  it('refuses a backup name that resolves outside the backups directory, and lists the known ones', async () => {
    await expect(h.plan('restore', { backup: '..' })).rejects.toThrow(/not inside the backups directory/);
    await expect(h.plan('restore', { backup: 'R-999-nothing' })).rejects.toThrow(/no backup named R-999-nothing/);
  });
});
