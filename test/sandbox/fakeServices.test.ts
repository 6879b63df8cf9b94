import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeServices, type FakeServices } from '../../src/sandbox/fakeServices.js';

describe('fake ML-Analyze, bun-api and frontend', () => {
  let svc: FakeServices;
  beforeEach(async () => {
    svc = await startFakeServices();
  });
  afterEach(() => svc.close());

  const getJson = async (url: string) => {
    const res = await fetch(url);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('serves /health on all three and can be switched unhealthy', async () => {
    for (const url of Object.values(svc.urls)) expect(await getJson(`${url}/health`)).toEqual({ status: 200, body: { status: 'ok' } });
    svc.setHealthy('ml-analyze', false);
    expect((await getJson(`${svc.urls.mlAnalyze}/health`)).status).toBe(503);
    expect((await getJson(`${svc.urls.bunApi}/health`)).status).toBe(200);
    svc.setHealthy('ml-analyze', true);
    expect((await getJson(`${svc.urls.mlAnalyze}/health`)).status).toBe(200);
    expect(svc.calls.filter((c) => c.service === 'ml-analyze').map((c) => c.status)).toEqual([200, 503, 200]);
  });

  it('runs a merge job: pending -> processing (with progress) -> completed', async () => {
    const res = await fetch(`${svc.urls.mlAnalyze}/analyze/merge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ limit: 1000 }),
    });
    expect(res.status).toBe(202);
    const { job_id: jobId } = (await res.json()) as { job_id: string };
    const seen = [];
    for (let i = 0; i < 5; i++) {
      const { body } = await getJson(`${svc.urls.mlAnalyze}/analyze/status/${jobId}`);
      seen.push(`${String(body.status)}:${String(body.progress)}`);
    }
    expect(seen).toEqual(['pending:0', 'processing:33', 'processing:67', 'completed:100', 'completed:100']);
    expect(svc.calls[0]).toMatchObject({ service: 'ml-analyze', method: 'POST', path: '/analyze/merge', body: { limit: 1000 } });
  });

  it('rejects a bad limit and an unknown job', async () => {
    const bad = await fetch(`${svc.urls.mlAnalyze}/analyze/merge`, { method: 'POST', body: JSON.stringify({ limit: 'all' }) });
    expect(bad.status).toBe(422);
    expect((await getJson(`${svc.urls.mlAnalyze}/analyze/status/nope`)).status).toBe(404);
  });
});
