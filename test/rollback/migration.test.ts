import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runAlembic, SEED_COUNTS } from '../../src/sandbox/seed.js';
import { count, createHarness, ROOT, stepLines, type Harness } from './harness.js';

const current = async (h: Harness) => (await runAlembic(h.env.databaseUrl, ['current'])).stdout.trim();

describe('migration rollback (real alembic over the python-ingestion fixture)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('--steps 1 previews current/history and the offline SQL, downgrades 008 → 007 and checks alembic current', async () => {
    await h.env.db.query('TRUNCATE product_embeddings');
    const r = await h.run('migration', { steps: 1 });
    expect(r.outcome, stepLines(r.plan, r.steps).join('\n')).toBe('succeeded');
    expect(r.plan.preview.find((p) => p.label === 'alembic current')?.value).toBe('008');
    expect(r.plan.preview.find((p) => p.label === 'alembic history')?.value).toContain('007 -> 008');
    const step = r.plan.steps.find((s) => s.kind === 'alembic-downgrade')!;
    expect(step.params.target).toBe('007');
    expect(step.shows.join('\n')).toMatch(/SQL \(offline mode\):[\s\S]*UPDATE alembic_version SET version_num='007'/);
    expect(step.shows.join('\n')).not.toContain(h.env.databaseUrl);
    expect(await current(h)).toBe('007');
  });

  it('DESIGN §1 row 8: --pre-phase7 (the configured revision) dumps and drops the non-empty product_embeddings, then 007 downgrades', async () => {
    const r = await h.run('migration', { prePhase7: true });
    expect(r.outcome, stepLines(r.plan, r.steps).join('\n')).toBe('succeeded');
    expect(r.plan.steps.map((s) => s.id)).toEqual(['dump-embeddings', 'drop-embeddings', 'alembic-downgrade', 'health-checklist']);
    expect(await current(h)).toBe('006');
    expect(await count(h.env, "SELECT 1 FROM pg_extension WHERE extname = 'vector'")).toBe(0);
    expect(await count(h.env, "SELECT 1 WHERE to_regclass('public.product_embeddings') IS NOT NULL")).toBe(0);
    const backup = r.steps.get(0)!;
    expect(backup.summary).toMatch(new RegExp(`dumped product_embeddings \\(${SEED_COUNTS.embeddings} rows\\)`));
    expect((await h.store.backups()).map((b) => b.kind)).toEqual(['table-dump']);
  });

  it('DESIGN §1 row 7: a pre-Phase-7 revision that is not in alembic history is refused before any plan', async () => {
    const odd = await createHarness({ file: { targets: { alembic: { directory: path.join(ROOT, 'sandbox/python-ingestion'), command: ['/usr/bin/python3', '-m', 'alembic'], prePhase7Revision: 'abc123def' } } } });
    try {
      await expect(odd.plan('migration', { prePhase7: true })).rejects.toThrow(/pre-Phase-7 revision abc123def .*is not in alembic history/);
      await expect(odd.plan('migration', { to: '042' })).rejects.toThrow(/--to 042 is not in alembic history/);
    } finally {
      await odd.close();
    }
  });

  it('refuses several heads with a clear message', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlrb-alembic-'));
    try {
      cpSync(path.join(ROOT, 'sandbox/python-ingestion'), dir, { recursive: true });
      writeFileSync(
        path.join(dir, 'migrations/versions/009_side_branch.py'),
        'revision = "009"\ndown_revision = "006"\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade() -> None:\n    pass\n\n\ndef downgrade() -> None:\n    pass\n',
      );
      const two = await createHarness({ file: { targets: { alembic: { directory: dir, command: ['/usr/bin/python3', '-m', 'alembic'], prePhase7Revision: '006' } } } });
      try {
        await expect(two.plan('migration', { steps: 1 })).rejects.toThrow(/alembic has 2 heads \((008, 009|009, 008)\): a downgrade would be ambiguous/);
      } finally {
        await two.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a database at a revision the code does not know ("Can\'t locate revision")', async () => {
    await h.env.db.query("UPDATE alembic_version SET version_num = 'ffff0000'");
    await expect(h.plan('migration', { steps: 1 })).rejects.toThrow(/alembic cannot locate revision ffff0000: .*removed by a code rollback/);
  });

  it('stops before the downgrade when the revision moved between approval and run', async () => {
    await h.env.db.query('TRUNCATE product_embeddings');
    const r = await h.run('migration', { to: '006' }, async () => {
      await runAlembic(h.env.databaseUrl, ['downgrade', '007']);
    });
    expect(r.outcome).toBe('failed');
    expect(r.req.error?.code).toBe('plan_changed');
    expect(r.req.error?.message).toMatch(/was at revision 008 when planned and is now at 007/);
  });
});
