import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, stepLines, type Harness } from './harness.js';

describe('container rollback with Docker Compose (sandbox docker / docker-compose)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ file: { targets: { compose: { previousTag: '1.4.1' } } } });
  });
  afterEach(async () => {
    await h.close();
  });

  it('DESIGN §1 row 1: sets the tag variable, pulls the service (not image:tag), up -d --no-build, then waits for /health', async () => {
    const r = await h.run('container', { platform: 'compose' });
    expect(r.outcome, stepLines(r.plan, r.steps).join('\n')).toBe('succeeded');
    const compose = (h.sandbox().compose as Record<string, { image: string; state: string }>)['ml-analyze']!;
    expect(compose).toMatchObject({ image: 'registry.local/ml-analyze:1.4.1', state: 'running' });
    const calls = h.calls().filter((c) => c.cmd === 'docker' && ['pull', 'stop', 'up'].some((v) => c.argv.includes(v)));
    const verbs = calls.map((c) => c.argv[c.argv.indexOf('compose') + 3]);
    expect(verbs).toEqual(['pull', 'stop', 'up']);
    expect(calls.flatMap((c) => c.argv).some((a) => a.includes('ml-analyze:'))).toBe(false);
    expect(calls[2]!.argv.slice(-3)).toEqual(['-d', '--no-build', 'ml-analyze']);
    expect(calls[2]!.env).toEqual({ ML_ANALYZE_TAG: '1.4.1' });
    expect(h.services.calls.some((c) => c.service === 'ml-analyze' && c.path === '/health')).toBe(true);
    expect(r.plan.notes.join(' ')).toMatch(/pull takes service names/);
  });

  it('uses docker-compose (v1) when configured, with the --tag given', async () => {
    const v1 = await createHarness({ file: { targets: { compose: { command: 'docker-compose' } } } });
    try {
      const r = await v1.run('container', { platform: 'compose', tag: '1.3.0' });
      expect(r.outcome, stepLines(r.plan, r.steps).join('\n')).toBe('succeeded');
      const verbs = v1.calls().filter((c) => c.cmd === 'docker-compose').map((c) => c.argv.find((a) => ['pull', 'stop', 'up'].includes(a)));
      expect(verbs.filter(Boolean)).toEqual(['pull', 'stop', 'up']);
      expect(v1.calls().some((c) => c.cmd === 'docker')).toBe(false);
      expect((v1.sandbox().compose as Record<string, { image: string }>)['ml-analyze']!.image).toBe('registry.local/ml-analyze:1.3.0');
    } finally {
      await v1.close();
    }
  });

  it('refuses to plan without a tag when no previousTag is configured', async () => {
    const bare = await createHarness();
    try {
      await expect(bare.plan('container', { platform: 'compose' })).rejects.toThrow(/--tag TAG.*previousTag/);
    } finally {
      await bare.close();
    }
  });

  it('an unknown tag fails at the pull, before ml-analyze is stopped', async () => {
    const r = await h.run('container', { platform: 'compose', tag: '9.9.9' });
    expect(r.outcome).toBe('failed');
    expect(r.req.error?.step).toBe(0);
    expect(r.req.error?.message).toMatch(/registry.local\/ml-analyze:9.9.9 does not exist in the registry.*ml-analyze was not stopped/);
    expect((h.sandbox().compose as Record<string, { image: string; state: string }>)['ml-analyze']).toMatchObject({ image: 'registry.local/ml-analyze:1.5.0', state: 'running' });
  });

  it('an unhealthy service after the rollback fails the request at the health step, with evidence', async () => {
    h.services.setHealthy('ml-analyze', false);
    const r = await h.run('container', { platform: 'compose' });
    expect(r.outcome).toBe('failed');
    const i = r.plan.steps.findIndex((s) => s.kind === 'wait-healthy');
    expect(r.req.error?.step).toBe(i);
    expect(r.steps.get(i)?.summary).toMatch(/ML-Analyze did not become healthy within 2 s: GET .*\/health answered #1: 503/);
    expect(r.steps.get(i - 1)?.state).toBe('succeeded');
  });
});

describe('container rollback with Kubernetes (sandbox kubectl)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ file: { targets: { kubernetes: { deployment: 'ml-analyze', namespace: 'default', context: 'sandbox' } } } });
  });
  afterEach(async () => {
    await h.close();
  });

  it('auto picks k8s when a namespace is configured; previews history; undo, status, verified revision and image', async () => {
    const r = await h.run('container', { platform: 'auto' });
    expect(r.outcome, stepLines(r.plan, r.steps).join('\n')).toBe('succeeded');
    expect(r.plan.preview.find((p) => p.label === 'Rollout history')?.value).toMatch(/REVISION\s+CHANGE-CAUSE[\s\S]*3\s+deploy ml-analyze 1.5.0/);
    const d = h.sandbox().deployment as { revision: number; history: Array<{ revision: number; image: string }> };
    expect(d.revision).toBe(4);
    expect(d.history.find((x) => x.revision === 4)?.image).toBe('registry.local/ml-analyze:1.4.1');
    expect(r.steps.get(0)?.summary).toBe('rolled back: revision 3 → 4, image registry.local/ml-analyze:1.5.0 → registry.local/ml-analyze:1.4.1');
    const undo = h.calls().find((c) => c.argv.includes('undo'))!;
    expect(undo.argv).toEqual(['--context', 'sandbox', '-n', 'default', 'rollout', 'undo', 'deployment/ml-analyze']);
    expect(h.calls().some((c) => c.argv.includes('status') && c.argv.some((a) => a.startsWith('--timeout=')))).toBe(true);
  });

  it('--to-revision N not in the history is refused at plan time', async () => {
    await expect(h.plan('container', { platform: 'k8s', toRevision: 7 })).rejects.toThrow(/revision 7 is not in the rollout history .*revisions: 1, 2, 3/);
    expect(h.calls().some((c) => c.argv.includes('undo'))).toBe(false);
  });

  it('--to-revision 1 rolls back to that revision\'s image', async () => {
    const r = await h.run('container', { platform: 'k8s', toRevision: 1 });
    expect(r.outcome, stepLines(r.plan, r.steps).join('\n')).toBe('succeeded');
    expect(h.calls().find((c) => c.argv.includes('undo'))?.argv).toContain('--to-revision=1');
    expect(r.steps.get(0)?.summary).toMatch(/image registry.local\/ml-analyze:1.5.0 → registry.local\/ml-analyze:1.3.0/);
  });

  it('a kubectl rollout undo that exits 0 without rolling back fails the step', async () => {
    await h.setSandbox({ undoNoop: true });
    const r = await h.run('container', { platform: 'k8s' });
    expect(r.outcome).toBe('failed');
    expect(r.req.error?.step).toBe(0);
    expect(r.req.error?.message).toMatch(/exited 0 but the rollback did not happen: .*still|revision 3/);
    expect(r.steps.get(0)?.exitCode ?? null).toBeNull();
    expect(r.steps.get(1)).toBeUndefined();
  });

  it('stops before undo when the deployment moved after approval', async () => {
    const r = await h.run('container', { platform: 'k8s' }, async () => {
      const s = h.sandbox() as { deployment: { revision: number; history: Array<{ revision: number; image: string; changeCause: string }> } };
      s.deployment.history.push({ revision: 4, image: 'registry.local/ml-analyze:1.5.0', changeCause: 'redeploy' });
      s.deployment.revision = 4;
      await h.setSandbox({ deployment: s.deployment });
    });
    expect(r.outcome).toBe('failed');
    expect(r.req.error?.message).toMatch(/was at revision 3 when planned and is now at 4/);
  });
});
