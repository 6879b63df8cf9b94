import { coerceError } from '../errors.js';
import type { Logger } from '../log.js';
import type { IncidentService } from './service.js';
import type { Incident } from './types.js';

export type HealthOutcome =
  | { kind: 'healthy'; recoveredFrom?: string }
  | { kind: 'failing'; failures: number }
  | { kind: 'declared'; incidentId: string; failures: number; announcedAfterMs?: number }
  | { kind: 'attached'; incidentId: string; failures: number };

export interface HealthCheck {
  readonly ok: boolean;
  readonly error: string | null;
  readonly at: Date;
}

const TARGET = 'ml-analyze';

/** One GET of `/health`: 2xx within the timeout is healthy, anything else is a failure with a reason. */
export async function probeHealth(fetchFn: typeof fetch, baseUrl: string, timeoutMs: number, now: () => Date): Promise<HealthCheck> {
  const url = `${baseUrl.replace(/\/$/, '')}/health`;
  try {
    const res = await fetchFn(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer().catch(() => undefined);
    return { ok: res.ok, error: res.ok ? null : `HTTP ${res.status}`, at: now() };
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string } };
    const reason = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? coerceError(err).message);
    return { ok: false, error: reason, at: now() };
  }
}

/**
 * The runbook's first alert: "Health check failures (2+ consecutive)". The streak lives in
 * Postgres (so any worker can run the next check and a restart forgets nothing); the streak's row
 * lock makes exactly one announcement however many failures follow. Resolving stays human.
 */
export class HealthMonitor {
  constructor(
    private readonly o: { incidents: IncidentService; fetch: typeof fetch; url: string; log: Logger; failures?: number; timeoutMs?: number },
  ) {}

  async tick(): Promise<HealthOutcome> {
    const { incidents } = this.o;
    const check = await probeHealth(this.o.fetch, this.o.url, this.o.timeoutMs ?? incidents.config.monitor.timeoutMs, incidents.now);
    return this.record(check);
  }

  async record(check: HealthCheck): Promise<HealthOutcome> {
    const { incidents } = this.o;
    const { istore } = incidents;
    const threshold = this.o.failures ?? incidents.config.monitor.failures;
    type D = { outcome: HealthOutcome; incident?: Incident; created?: boolean; note?: string; offer?: boolean };
    const d = await istore.tx<D>(async (c) => {
      const s = await istore.lockHealth(c, TARGET);
      if (check.ok) {
        await istore.saveHealth(c, TARGET, { failures: 0, healthy: true, incidentId: null, error: null, at: check.at });
        if (!s.incidentId) return { outcome: { kind: 'healthy' } };
        const inc = await istore.get(s.incidentId, c);
        return {
          outcome: { kind: 'healthy', recoveredFrom: s.incidentId },
          ...(inc ? { incident: inc } : {}),
          note: `💚 ML-Analyze \`/health\` answers again (after ${s.failures} failed checks). Resolving the incident is up to you: check the checklist, then *Resolve*.`,
        };
      }
      const failures = s.failures + 1;
      if (failures < threshold || s.incidentId) {
        await istore.saveHealth(c, TARGET, { failures, healthy: false, incidentId: s.incidentId, error: check.error, at: check.at });
        return { outcome: { kind: 'failing', failures } };
      }
      await istore.lockOpening(c);
      const current = await istore.open(c);
      const detail = { failures, checkedAt: check.at.toISOString(), error: check.error };
      if (current) {
        await istore.saveHealth(c, TARGET, { failures, healthy: false, incidentId: current.id, error: check.error, at: check.at });
        return {
          outcome: { kind: 'attached', incidentId: current.id, failures },
          incident: current,
          offer: true,
          note: `🔴 ML-Analyze \`/health\` failed ${failures} consecutive checks (${check.error ?? 'unhealthy'}). A container rollback can be planned here; it still needs an approver.`,
        };
      }
      const inc = await istore.create(c, {
        severity: 'P1',
        impact: `ML-Analyze is not answering /health (${failures} consecutive failed checks: ${check.error ?? 'unhealthy'}); analysis and matching are likely down.`,
        source: 'health',
        declaredBy: 'health-monitor',
        channelId: incidents.automatedChannel,
        now: incidents.now(),
      });
      await istore.event({ incidentId: inc.id, actor: 'health-monitor', kind: 'declared', text: `declared P1: ${failures} consecutive failed health checks`, detail }, c);
      await istore.saveHealth(c, TARGET, { failures, healthy: false, incidentId: inc.id, error: check.error, at: check.at });
      return { outcome: { kind: 'declared', incidentId: inc.id, failures }, incident: inc, created: true };
    });
    if (d.created && d.incident && d.outcome.kind === 'declared') {
      await incidents.announced(d.incident);
      // The number the runbook cares about: from the failing check to people knowing.
      d.outcome.announcedAfterMs = Date.now() - check.at.getTime();
    }
    if (d.incident && d.note) await incidents.note(d.incident, 'health-monitor', d.outcome.kind === 'healthy' ? 'health-recovered' : 'health-failing', { text: d.note, ...(d.offer ? { offer: true } : {}) });
    if (d.outcome.kind !== 'healthy' || d.outcome.recoveredFrom) this.o.log.info({ outcome: d.outcome, error: check.error }, 'ML-Analyze health check');
    return d.outcome;
  }
}
