import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeServiceName = 'ml-analyze' | 'bun-api' | 'frontend';

export interface FakeCall {
  service: FakeServiceName;
  method: string;
  path: string;
  body: unknown;
  status: number;
}

export interface FakeServicesOptions {
  mlAnalyzePort?: number;
  bunApiPort?: number;
  frontendPort?: number;
  /** Status polls a merge job takes to reach `completed` (default 4: pending, 33 %, 66 %, completed). */
  statusPollsToComplete?: number;
  /** Whether the service's container runs (the sandbox asks the docker stand-in); a stopped one does not answer. */
  isRunning?: (service: FakeServiceName) => boolean;
}

export interface FakeServices {
  urls: Record<'mlAnalyze' | 'bunApi' | 'frontend', string>;
  calls: FakeCall[];
  setHealthy(service: FakeServiceName, healthy: boolean): void;
  close(): Promise<void>;
}

interface Job {
  limit: number;
  polls: number;
}

type Reply = [status: number, body: unknown];

/**
 * Local HTTP stand-ins for ML-Analyze, bun-api and the frontend. Progress is
 * driven by the number of status polls, not by time, so tests need no sleeps.
 */
export async function startFakeServices(opts: FakeServicesOptions = {}): Promise<FakeServices> {
  const healthy: Record<FakeServiceName, boolean> = { 'ml-analyze': true, 'bun-api': true, frontend: true };
  const calls: FakeCall[] = [];
  const jobs = new Map<string, Job>();
  const steps = Math.max(1, opts.statusPollsToComplete ?? 4);
  let nextJob = 1;

  const up = (service: FakeServiceName) => healthy[service] && (opts.isRunning?.(service) ?? true);
  const health = (service: FakeServiceName): Reply => (up(service) ? [200, { status: 'ok' }] : [503, { status: 'unhealthy' }]);

  function mlAnalyze(method: string, path: string, body: unknown): Reply {
    if (method === 'GET' && path === '/health') return health('ml-analyze');
    // An unhealthy service answers nothing useful, like a crashed container behind a proxy.
    if (!up('ml-analyze')) return [503, { detail: 'Service Unavailable' }];
    if (method === 'POST' && path === '/analyze/merge') {
      const limit = (body as { limit?: unknown } | null)?.limit;
      if (!Number.isInteger(limit) || (limit as number) < 1) return [422, { detail: 'limit must be a positive integer' }];
      const jobId = `job-${String(nextJob++).padStart(4, '0')}`;
      jobs.set(jobId, { limit: limit as number, polls: 0 });
      return [202, { job_id: jobId, status: 'pending' }];
    }
    const m = /^\/analyze\/status\/([^/]+)$/.exec(path);
    if (method === 'GET' && m) {
      const jobId = decodeURIComponent(m[1] ?? '');
      const job = jobs.get(jobId);
      if (!job) return [404, { detail: 'Job not found' }];
      const poll = job.polls++;
      if (poll === 0) return [200, { job_id: jobId, status: 'pending', progress: 0 }];
      if (poll < steps - 1) {
        const progress = Math.round((poll / (steps - 1)) * 100);
        return [200, { job_id: jobId, status: 'processing', progress, processed: Math.floor((job.limit * progress) / 100), total: job.limit }];
      }
      return [200, { job_id: jobId, status: 'completed', progress: 100, processed: job.limit, total: job.limit }];
    }
    return [404, { detail: 'Not Found' }];
  }

  const routes: Record<FakeServiceName, (method: string, path: string, body: unknown) => Reply> = {
    'ml-analyze': mlAnalyze,
    'bun-api': (method, path) => (method === 'GET' && path === '/health' ? health('bun-api') : [404, { error: 'not found' }]),
    frontend: (method, path) => (method === 'GET' && path === '/health' ? health('frontend') : [404, { error: 'not found' }]),
  };

  async function listen(service: FakeServiceName, port = 0): Promise<[http.Server, string]> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: unknown = null;
        let reply: Reply;
        try {
          body = raw ? JSON.parse(raw) : null;
          reply = routes[service](req.method ?? 'GET', new URL(req.url ?? '/', 'http://x').pathname, body);
        } catch {
          reply = [400, { detail: 'invalid JSON body' }];
        }
        calls.push({ service, method: req.method ?? 'GET', path: req.url ?? '/', body, status: reply[0] });
        res.writeHead(reply[0], { 'content-type': 'application/json' }).end(JSON.stringify(reply[1]));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return [server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`];
  }

  const started = await Promise.allSettled([
    listen('ml-analyze', opts.mlAnalyzePort),
    listen('bun-api', opts.bunApiPort),
    listen('frontend', opts.frontendPort),
  ]);
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    // Do not leak the servers that did start (e.g. when one fixed port is taken).
    for (const r of started) if (r.status === 'fulfilled') r.value[0].close();
    throw failed.reason;
  }
  const [ml, bun, front] = started.map((r) => (r as PromiseFulfilledResult<[http.Server, string]>).value) as [
    [http.Server, string],
    [http.Server, string],
    [http.Server, string],
  ];
  const servers = [ml[0], bun[0], front[0]];

  return {
    urls: { mlAnalyze: ml[1], bunApi: bun[1], frontend: front[1] },
    calls,
    setHealthy(service, value) {
      healthy[service] = value;
    },
    async close() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections(); // keep-alive sockets would otherwise hold close() open
            }),
        ),
      );
    },
  };
}
