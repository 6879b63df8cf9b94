import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExec } from '../../src/rollback/exec.js';
import { TARGET_REDIS_JOB_COUNT } from '../../src/sandbox/seed.js';
import { createHarness, stepLines, type Harness } from './harness.js';

describe('regenerate and restoring Redis jobs', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('POSTs /analyze/merge with the limit and follows /analyze/status/{job_id} to completed, with progress lines', async () => {
    const r = await h.run('regenerate', { limit: 250 });
    expect(r.outcome, stepLines(r.plan, r.steps).join('\n')).toBe('succeeded');
    const merge = h.services.calls.find((c) => c.path === '/analyze/merge')!;
    expect(merge).toMatchObject({ method: 'POST', body: { limit: 250 }, status: 202 });
    expect(h.services.calls.filter((c) => c.path.startsWith('/analyze/status/job-0001')).length).toBe(4);
    expect(h.progress).toEqual(expect.arrayContaining([expect.stringMatching(/job-0001 started/), expect.stringMatching(/processing 33 % \(82\/250\)/), expect.stringMatching(/completed 100 %/)]));
    expect(r.steps.get(0)?.summary).toMatch(/completed: 250 items processed/);
  });

  it('a merge refused by an unhealthy ML-Analyze fails the step with the answer', async () => {
    h.services.setHealthy('ml-analyze', false);
    const r = await h.run('regenerate', { limit: 10 });
    expect(r.outcome).toBe('failed');
    expect(r.req.error?.message).toMatch(/POST .*\/analyze\/merge → 503/);
  });

  it('redis clear-jobs, then restore the .jsonl backup: every key back with its value and TTL', async () => {
    await h.env.redis.pexpire('ml-analyze:job:merge-0001', 600_000);
    const keys = (await h.env.redis.keys('ml-analyze:job:*')).sort();
    const before = await Promise.all(keys.map(async (k) => [k, (await h.env.redis.dump(k)) ?? ''] as const));
    const r = await h.run('redis clear-jobs');
    expect(r.outcome).toBe('succeeded');
    expect(await h.env.redis.keys('ml-analyze:job:*')).toEqual([]);
    const restored = await h.run('restore', { backup: `${r.req.id}-redis-jobs` });
    expect(restored.outcome, stepLines(restored.plan, restored.steps).join('\n')).toBe('succeeded');
    expect(restored.steps.get(0)?.keys).toBe(TARGET_REDIS_JOB_COUNT + 1);
    expect((await h.env.redis.keys('ml-analyze:job:*')).sort()).toEqual(keys);
    for (const [k, dump] of before) expect(await h.env.redis.dump(k)).toEqual(dump);
    expect(await h.env.redis.pttl('ml-analyze:job:merge-0001')).toBeGreaterThan(500_000);
    expect(await h.env.redis.zcard('arq:queue:ml-analyze')).toBe(12);
  });
});

describe('exec timeout against a child that ignores SIGTERM', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mlrb-exec-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const alive = (pid: number) => {
    const out = execFileSync('ps', ['-o', 'pid=,stat=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    return out !== '' && !/\bZ/.test(out.split(/\s+/)[1] ?? '');
  };
  const psAlive = (pid: number) => {
    try {
      return alive(pid);
    } catch {
      return false; // ps exits 1 when the pid is gone
    }
  };

  it('ends the shell and the grandchild that trap TERM, within the grace period', async () => {
    const pids = path.join(dir, 'pids');
    const script = path.join(dir, 'stubborn.sh');
    writeFileSync(script, `#!/bin/bash\ntrap '' TERM\nbash -c "trap '' TERM; echo \\$\\$ >> ${pids}; while true; do sleep 0.1; done" &\necho $$ >> ${pids}\nwhile true; do sleep 0.1; done\n`, { mode: 0o755 });
    const exec = createExec();
    const started = Date.now();
    const pending = exec([script], { timeoutMs: 500, killGraceMs: 300 });
    await expect(pending).rejects.toThrow(/timed out after 1 s and was stopped|timed out after 0 s and was stopped/);
    const elapsed = Date.now() - started;
    const listed = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    expect(listed).toHaveLength(2);
    for (const pid of listed) expect(psAlive(pid), `pid ${pid} still in the process table`).toBe(false);
    expect(elapsed).toBeLessThan(5000);
  });
});
