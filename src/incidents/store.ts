import type pg from 'pg';
import type { Queryable, Store } from '../store/store.js';
import type { Incident, IncidentSource, IncidentStatus, LinkedRequest, Severity } from './types.js';

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const toIncident = (row: Record<string, unknown>): Incident => Object.fromEntries(Object.entries(row).map(([k, v]) => [camel(k), v])) as unknown as Incident;

export interface IncidentPatch {
  status?: IncidentStatus | undefined;
  eta?: string | undefined;
  actions?: string | undefined;
  impact?: string | undefined;
  severity?: Severity | undefined;
}

export interface AlertGroupRow {
  groupHash: string;
  incidentId: string | null;
  status: 'firing' | 'resolved';
  fingerprints: string[];
  incidentStatus: IncidentStatus | null;
}

/** Incidents, their timeline, alert groups and the health monitor's streak, in the bot's schema. */
export class IncidentStore {
  constructor(readonly store: Store) {}

  private t(name: string): string {
    return `${this.store.schema}.${name}`;
  }

  tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.store.tx(fn);
  }

  /** Serialises "is one open? else declare" between the monitor, the webhook and each other. */
  async lockOpening(c: pg.PoolClient): Promise<void> {
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`ml-rollback:incident-open:${this.store.schema}`]);
  }

  async create(
    c: Queryable,
    i: { severity: Severity; impact: string; source: IncidentSource; declaredBy: string; channelId: string; actions?: string | undefined; now: Date },
  ): Promise<Incident> {
    const res = await c.query(
      `INSERT INTO ${this.t('incidents')} (id, severity, status, impact, actions, source, declared_by, channel_id, started_at, last_update_at)
       VALUES ('INC-' || nextval('${this.t('incident_seq')}'), $1, 'investigating', $2, $3, $4, $5, $6, $7, $7) RETURNING *`,
      [i.severity, i.impact, i.actions ?? null, i.source, i.declaredBy, i.channelId, i.now],
    );
    return toIncident(res.rows[0]);
  }

  async get(id: string, q: Queryable = this.store.pool): Promise<Incident | null> {
    const res = await q.query(`SELECT * FROM ${this.t('incidents')} WHERE id = $1`, [id]);
    return res.rows[0] ? toIncident(res.rows[0]) : null;
  }

  async lock(c: pg.PoolClient, id: string): Promise<Incident | null> {
    const res = await c.query(`SELECT * FROM ${this.t('incidents')} WHERE id = $1 FOR UPDATE`, [id]);
    return res.rows[0] ? toIncident(res.rows[0]) : null;
  }

  /** The most recently started open incident. */
  async open(q: Queryable = this.store.pool): Promise<Incident | null> {
    const res = await q.query(`SELECT * FROM ${this.t('incidents')} WHERE status <> 'resolved' ORDER BY started_at DESC, id DESC LIMIT 1`);
    return res.rows[0] ? toIncident(res.rows[0]) : null;
  }

  async list(limit = 10): Promise<Incident[]> {
    const res = await this.store.pool.query(
      `SELECT * FROM ${this.t('incidents')} ORDER BY (status = 'resolved'), started_at DESC LIMIT $1`,
      [limit],
    );
    return res.rows.map(toIncident);
  }

  /** Applies a change; a change counts as "an update" for the response-time reminder. */
  async patch(c: Queryable, id: string, p: IncidentPatch, now: Date, by: string): Promise<Incident | null> {
    const res = await c.query(
      `UPDATE ${this.t('incidents')} SET
         status = COALESCE($2, status), eta = COALESCE($3, eta), actions = COALESCE($4, actions), impact = COALESCE($5, impact),
         severity = COALESCE($6, severity), last_update_at = $7,
         resolved_at = CASE WHEN $2 = 'resolved' THEN $7 ELSE resolved_at END,
         resolved_by = CASE WHEN $2 = 'resolved' THEN $8 ELSE resolved_by END
       WHERE id = $1 AND status <> 'resolved' RETURNING *`,
      [id, p.status ?? null, p.eta ?? null, p.actions ?? null, p.impact ?? null, p.severity ?? null, now, by],
    );
    return res.rows[0] ? toIncident(res.rows[0]) : null;
  }

  async setMessage(id: string, channelId: string, ts: string): Promise<void> {
    await this.store.pool.query(`UPDATE ${this.t('incidents')} SET channel_id = $2, message_ts = $3 WHERE id = $1`, [id, channelId, ts]);
  }

  /** Replaces the current reminder only if it is still `expected` (an update and a firing reminder may race). */
  async swapReminderJob(id: string, expected: string | null, next: string | null): Promise<boolean> {
    const res = await this.store.pool.query(
      `UPDATE ${this.t('incidents')} SET reminder_job = $3::text WHERE id = $1 AND reminder_job IS NOT DISTINCT FROM $2::text AND (status <> 'resolved' OR $3::text IS NULL)`,
      [id, expected, next],
    );
    return (res.rowCount ?? 0) === 1;
  }

  /** Counts a reminder only if `jobId` is still the incident's current reminder (stale jobs do nothing). */
  async claimReminder(id: string, jobId: string): Promise<Incident | null> {
    const res = await this.store.pool.query(
      `UPDATE ${this.t('incidents')} SET reminders = reminders + 1 WHERE id = $1 AND reminder_job = $2 AND status <> 'resolved' RETURNING *`,
      [id, jobId],
    );
    return res.rows[0] ? toIncident(res.rows[0]) : null;
  }

  async event(
    e: { incidentId: string; actor: string; kind: string; text: string; detail?: Record<string, unknown>; at?: Date },
    q: Queryable = this.store.pool,
  ): Promise<void> {
    await q.query(`INSERT INTO ${this.t('incident_events')} (incident_id, actor, kind, text, detail, at) VALUES ($1, $2, $3, $4, $5, COALESCE($6, now()))`, [
      e.incidentId,
      e.actor,
      e.kind,
      e.text.slice(0, 3000),
      JSON.stringify(e.detail ?? {}),
      e.at ?? null,
    ]);
  }

  async events(incidentId: string): Promise<Array<{ at: Date; actor: string; kind: string; text: string; detail: Record<string, unknown> }>> {
    const res = await this.store.pool.query(`SELECT at, actor, kind, text, detail FROM ${this.t('incident_events')} WHERE incident_id = $1 ORDER BY id`, [incidentId]);
    return res.rows as Array<{ at: Date; actor: string; kind: string; text: string; detail: Record<string, unknown> }>;
  }

  async linkedRequests(incidentId: string): Promise<LinkedRequest[]> {
    const res = await this.store.pool.query<{ id: string; title: string; state: string }>(
      `SELECT id, plan->>'title' AS title, state FROM ${this.t('requests')} WHERE incident_id = $1 AND state <> 'dry_run' ORDER BY created_at`,
      [incidentId],
    );
    return res.rows;
  }

  // ---- alert groups ---------------------------------------------------------------------------

  /**
   * Makes sure the group's row exists and locks it for the rest of the transaction. Two deliveries
   * of the same group meet on the primary key: the second waits here until the first commits.
   */
  async lockAlertGroup(c: pg.PoolClient, groupHash: string, groupKey: string): Promise<AlertGroupRow> {
    await c.query(
      `INSERT INTO ${this.t('alert_groups')} (group_hash, group_key, status) VALUES ($1, $2, 'resolved') ON CONFLICT (group_hash) DO NOTHING`,
      [groupHash, groupKey],
    );
    const res = await c.query(
      `SELECT g.group_hash, g.incident_id, g.status, g.fingerprints, i.status AS incident_status
         FROM ${this.t('alert_groups')} g LEFT JOIN ${this.t('incidents')} i ON i.id = g.incident_id
        WHERE g.group_hash = $1 FOR UPDATE OF g`,
      [groupHash],
    );
    const r = res.rows[0] as Record<string, unknown>;
    return {
      groupHash,
      incidentId: (r.incident_id as string | null) ?? null,
      status: r.status as 'firing' | 'resolved',
      fingerprints: (r.fingerprints as string[] | null) ?? [],
      incidentStatus: (r.incident_status as IncidentStatus | null) ?? null,
    };
  }

  async saveAlertGroup(c: pg.PoolClient, g: { groupHash: string; incidentId: string | null; status: 'firing' | 'resolved'; fingerprints: string[] }): Promise<void> {
    await c.query(
      `UPDATE ${this.t('alert_groups')} SET incident_id = $2, status = $3, fingerprints = $4, deliveries = deliveries + 1, last_at = now() WHERE group_hash = $1`,
      [g.groupHash, g.incidentId, g.status, g.fingerprints],
    );
  }

  async alertGroupCount(): Promise<number> {
    const res = await this.store.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.t('alert_groups')}`);
    return Number(res.rows[0]!.n);
  }

  // ---- health monitor -------------------------------------------------------------------------

  async lockHealth(c: pg.PoolClient, target: string): Promise<{ failures: number; healthy: boolean | null; incidentId: string | null }> {
    await c.query(`INSERT INTO ${this.t('health_monitor')} (target) VALUES ($1) ON CONFLICT (target) DO NOTHING`, [target]);
    const res = await c.query(`SELECT consecutive_failures, healthy, incident_id FROM ${this.t('health_monitor')} WHERE target = $1 FOR UPDATE`, [target]);
    const r = res.rows[0] as { consecutive_failures: number; healthy: boolean | null; incident_id: string | null };
    return { failures: r.consecutive_failures, healthy: r.healthy, incidentId: r.incident_id };
  }

  async saveHealth(c: pg.PoolClient, target: string, s: { failures: number; healthy: boolean; incidentId: string | null; error: string | null; at: Date }): Promise<void> {
    await c.query(
      `UPDATE ${this.t('health_monitor')} SET consecutive_failures = $2, healthy = $3, incident_id = $4, last_error = $5, last_checked_at = $6 WHERE target = $1`,
      [target, s.failures, s.healthy, s.incidentId, s.error, s.at],
    );
  }
}
