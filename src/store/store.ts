import pg from 'pg';
import { withTransaction } from '../db.js';
import { AppError, ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { Plan, StepResult } from '../rollback/types.js';
import { redactDeep } from '../redact.js';
import { MIGRATIONS } from './migrations.js';

export type RequestState =
  | 'awaiting_approval'
  | 'approved'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'rejected'
  | 'expired'
  | 'interrupted'
  | 'dry_run';

export const FINAL_STATES: readonly RequestState[] = ['succeeded', 'failed', 'cancelled', 'rejected', 'expired', 'dry_run'];

export interface RequestRow {
  id: string;
  procedure: string;
  command: string;
  plan: Plan;
  planHash: string;
  approvedHash: string | null;
  risk: string;
  state: RequestState;
  requester: string;
  channelId: string;
  channelName: string | null;
  messageTs: string | null;
  threadTs: string | null;
  progressTs: string | null;
  incidentId: string | null;
  emergencyReason: string | null;
  approvalsNeeded: number;
  runNo: number;
  resumeFrom: number;
  cancelRequested: boolean;
  error: { code: string; message: string; step?: number } | null;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface StepRunRow {
  id: number;
  requestId: string;
  runNo: number;
  stepIndex: number;
  stepId: string;
  attempt: number;
  state: 'running' | 'succeeded' | 'failed' | 'interrupted' | 'cancelled' | 'skipped';
  worker: string;
  startedAt: Date;
  finishedAt: Date | null;
  exitCode: number | null;
  rows: number | null;
  keys: number | null;
  summary: string | null;
  outputTail: string | null;
  result: StepResult | null;
  children?: ChildRecord[];
}

/** A child process group started by a step, on a host. */
export interface ChildRecord {
  host: string;
  pgid: number;
  file: string;
}

export interface AuditRow {
  id: number;
  at: Date;
  requestId: string | null;
  incidentId: string | null;
  actor: string;
  action: string;
  detail: Record<string, unknown>;
}

export interface Decision {
  userId: string;
  decision: 'approve' | 'reject';
  emergency: boolean;
  at: Date;
}

export type Queryable = pg.Pool | pg.PoolClient;

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
function rowTo<T>(row: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[camel(k)] = typeof v === 'string' && /^(rows|keys|id)$/.test(k) && /^\d+$/.test(v) ? Number(v) : v;
  return out as T;
}

/** The bot's durable state. Postgres holds the truth; everything else can be rebuilt from here. */
export class Store {
  private constructor(
    readonly pool: pg.Pool,
    readonly schema: string,
  ) {}

  static async open(url: string, schema: string, log: Logger): Promise<Store> {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new AppError(ErrorCode.Config, `bad schema name ${schema}`);
    const pool = new pg.Pool({ connectionString: url, max: 10, application_name: 'ml-rollback' });
    pool.on('error', (err) => log.error({ err: err.message }, 'state database pool error'));
    const store = new Store(pool, schema);
    try {
      await store.migrate(log);
    } catch (err) {
      await pool.end();
      throw err;
    }
    return store;
  }

  private t(name: string): string {
    return `${this.schema}.${name}`;
  }

  private async migrate(log: Logger): Promise<void> {
    await this.tx(async (c) => {
      // One migrator at a time, across processes.
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`ml-rollback:migrate:${this.schema}`]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${this.t('schema_migrations')} (version int PRIMARY KEY, name text, at timestamptz DEFAULT now())`);
      const done = new Set((await c.query<{ version: number }>(`SELECT version FROM ${this.t('schema_migrations')}`)).rows.map((r) => r.version));
      // By version, not by position: versions are numbered by feature and may land out of order.
      for (const m of [...MIGRATIONS].sort((x, y) => x.version - y.version)) {
        if (done.has(m.version)) continue;
        await c.query(m.sql.replaceAll('{{schema}}', this.schema));
        await c.query(`INSERT INTO ${this.t('schema_migrations')} (version, name) VALUES ($1, $2)`, [m.version, m.name]);
        log.info({ version: m.version, schema: this.schema }, `state schema migrated: ${m.name}`);
      }
    });
  }

  async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, fn);
  }


  async close(): Promise<void> {
    await this.pool.end();
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  // ---- requests ----------------------------------------------------------------------------

  async createRequest(
    r: {
      procedure: string;
      command: string;
      args: unknown;
      plan: Plan;
      planHash: string;
      state: RequestState;
      requester: string;
      channelId: string;
      channelName?: string | undefined;
      approvalsNeeded: number;
      expiresAt: Date | null;
      emergencyReason?: string | undefined;
      incidentId?: string | undefined;
    },
    q: Queryable = this.pool,
  ): Promise<RequestRow> {
    const res = await q.query(
      `INSERT INTO ${this.t('requests')}
         (id, procedure, command, args, plan, plan_hash, risk, state, requester, channel_id, channel_name,
          approvals_needed, expires_at, emergency_reason, incident_id)
       VALUES ('R-' || nextval('${this.t('request_seq')}'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       RETURNING *`,
      [
        r.procedure, r.command, JSON.stringify(r.args), JSON.stringify(r.plan), r.planHash, r.plan.risk, r.state,
        r.requester, r.channelId, r.channelName ?? null, r.approvalsNeeded, r.expiresAt, r.emergencyReason ?? null,
        r.incidentId ?? null,
      ],
    );
    return rowTo<RequestRow>(res.rows[0]);
  }

  async getRequest(id: string, q: Queryable = this.pool): Promise<RequestRow | null> {
    const res = await q.query(`SELECT * FROM ${this.t('requests')} WHERE id = $1`, [id]);
    return res.rows[0] ? rowTo<RequestRow>(res.rows[0]) : null;
  }

  async lockRequest(c: pg.PoolClient, id: string): Promise<RequestRow | null> {
    const res = await c.query(`SELECT * FROM ${this.t('requests')} WHERE id = $1 FOR UPDATE`, [id]);
    return res.rows[0] ? rowTo<RequestRow>(res.rows[0]) : null;
  }

  /**
   * The only way a request changes state: conditional on the states it may come from, so two
   * racing clicks or workers cannot both move it.
   */
  async transition(
    id: string,
    from: readonly RequestState[],
    to: RequestState,
    patch: Partial<Record<'approved_hash' | 'error' | 'started_at' | 'finished_at' | 'run_no' | 'resume_from' | 'cancel_requested' | 'expires_at', unknown>> = {},
    q: Queryable = this.pool,
  ): Promise<RequestRow | null> {
    const sets = ['state = $3', 'updated_at = now()'];
    const values: unknown[] = [id, from, to];
    for (const [k, v] of Object.entries(patch)) {
      values.push(k === 'error' && v !== null ? JSON.stringify(v) : v);
      sets.push(`${k} = $${values.length}`);
    }
    const res = await q.query(`UPDATE ${this.t('requests')} SET ${sets.join(', ')} WHERE id = $1 AND state = ANY($2) RETURNING *`, values);
    return res.rows[0] ? rowTo<RequestRow>(res.rows[0]) : null;
  }

  async setMessage(id: string, refs: { messageTs?: string; threadTs?: string; progressTs?: string; channelId?: string }): Promise<void> {
    await this.pool.query(
      `UPDATE ${this.t('requests')} SET message_ts = COALESCE($2, message_ts), thread_ts = COALESCE($3, thread_ts),
         progress_ts = COALESCE($4, progress_ts), channel_id = COALESCE($5, channel_id) WHERE id = $1`,
      [id, refs.messageTs ?? null, refs.threadTs ?? null, refs.progressTs ?? null, refs.channelId ?? null],
    );
  }

  async requestCancel(id: string): Promise<RequestRow | null> {
    const res = await this.pool.query(
      `UPDATE ${this.t('requests')} SET cancel_requested = true, updated_at = now() WHERE id = $1 AND state = 'running' RETURNING *`,
      [id],
    );
    return res.rows[0] ? rowTo<RequestRow>(res.rows[0]) : null;
  }

  async recentRequests(limit: number): Promise<RequestRow[]> {
    const res = await this.pool.query(`SELECT * FROM ${this.t('requests')} ORDER BY created_at DESC, id DESC LIMIT $1`, [limit]);
    return res.rows.map((r) => rowTo<RequestRow>(r));
  }

  /** Approved work that has not finished: what must be on the queue. */
  async unfinishedApproved(): Promise<RequestRow[]> {
    const res = await this.pool.query(`SELECT * FROM ${this.t('requests')} WHERE state IN ('approved','running') ORDER BY created_at`);
    return res.rows.map((r) => rowTo<RequestRow>(r));
  }

  async expireDue(now: Date): Promise<RequestRow[]> {
    const res = await this.pool.query(
      `UPDATE ${this.t('requests')} SET state = 'expired', updated_at = now()
        WHERE state = 'awaiting_approval' AND expires_at IS NOT NULL AND expires_at <= $1 RETURNING *`,
      [now],
    );
    return res.rows.map((r) => rowTo<RequestRow>(r));
  }

  // ---- decisions -----------------------------------------------------------------------------

  async decisions(id: string, q: Queryable = this.pool): Promise<Decision[]> {
    const res = await q.query(`SELECT user_id, decision, emergency, at FROM ${this.t('decisions')} WHERE request_id = $1 ORDER BY at`, [id]);
    return res.rows.map((r) => rowTo<Decision>(r));
  }

  /** Returns false when this user already decided on this request (a double click). */
  async addDecision(c: Queryable, id: string, userId: string, decision: 'approve' | 'reject', emergency = false): Promise<boolean> {
    const res = await c.query(
      `INSERT INTO ${this.t('decisions')} (request_id, user_id, decision, emergency) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [id, userId, decision, emergency],
    );
    return (res.rowCount ?? 0) === 1;
  }

  // ---- steps ---------------------------------------------------------------------------------

  async startStep(r: { requestId: string; runNo: number; stepIndex: number; stepId: string; worker: string }): Promise<StepRunRow> {
    const res = await this.pool.query(
      `INSERT INTO ${this.t('step_runs')} (request_id, run_no, step_index, step_id, attempt, state, worker)
       SELECT $1, $2, $3, $4, COALESCE(MAX(attempt), 0) + 1, 'running', $5
         FROM ${this.t('step_runs')} WHERE request_id = $1 AND step_index = $3
       RETURNING *`,
      [r.requestId, r.runNo, r.stepIndex, r.stepId, r.worker],
    );
    return rowTo<StepRunRow>(res.rows[0]);
  }

  async finishStep(
    stepRunId: number,
    state: StepRunRow['state'],
    r: { summary: string; exitCode?: number | undefined; rows?: number | undefined; keys?: number | undefined; outputTail?: string | undefined; result?: StepResult | undefined },
  ): Promise<StepRunRow> {
    const res = await this.pool.query(
      `UPDATE ${this.t('step_runs')} SET state = $2, finished_at = now(), summary = $3, exit_code = $4, rows = $5, keys = $6,
         output_tail = $7, result = $8 WHERE id = $1 RETURNING *`,
      [stepRunId, state, r.summary, r.exitCode ?? null, r.rows ?? null, r.keys ?? null, r.outputTail ?? null, r.result ? JSON.stringify(r.result) : null],
    );
    return rowTo<StepRunRow>(res.rows[0]);
  }

  async recordChild(stepRunId: number, child: ChildRecord): Promise<void> {
    await this.pool.query(`UPDATE ${this.t('step_runs')} SET children = children || $2::jsonb WHERE id = $1`, [stepRunId, JSON.stringify([child])]);
  }

  /** The latest attempt of every step of a request, by step index. */
  async latestSteps(requestId: string): Promise<Map<number, StepRunRow>> {
    const res = await this.pool.query(
      `SELECT DISTINCT ON (step_index) * FROM ${this.t('step_runs')} WHERE request_id = $1 ORDER BY step_index, attempt DESC`,
      [requestId],
    );
    return new Map(res.rows.map((r) => [Number(r.step_index), rowTo<StepRunRow>(r)]));
  }

  async allStepRuns(requestId: string): Promise<StepRunRow[]> {
    const res = await this.pool.query(`SELECT * FROM ${this.t('step_runs')} WHERE request_id = $1 ORDER BY id`, [requestId]);
    return res.rows.map((r) => rowTo<StepRunRow>(r));
  }

  // ---- audit ---------------------------------------------------------------------------------

  async audit(
    e: { requestId?: string | null | undefined; incidentId?: string | null | undefined; actor: string; action: string; detail?: Record<string, unknown> },
    q: Queryable = this.pool,
  ): Promise<void> {
    await q.query(`INSERT INTO ${this.t('audit')} (request_id, incident_id, actor, action, detail) VALUES ($1, $2, $3, $4, $5)`, [
      e.requestId ?? null,
      e.incidentId ?? null,
      e.actor,
      e.action,
      // The trail is append-only, so a secret written once could never be removed: mask before writing.
      JSON.stringify(redactDeep(e.detail ?? {})),
    ]);
  }

  async auditTrail(opts: { requestId?: string; limit?: number } = {}): Promise<AuditRow[]> {
    const res = opts.requestId
      ? await this.pool.query(`SELECT * FROM ${this.t('audit')} WHERE request_id = $1 ORDER BY id`, [opts.requestId])
      : await this.pool.query(`SELECT * FROM (SELECT * FROM ${this.t('audit')} ORDER BY id DESC LIMIT $1) a ORDER BY id`, [opts.limit ?? 1000]);
    return res.rows.map((r) => rowTo<AuditRow>(r));
  }

  // ---- backups -------------------------------------------------------------------------------

  async recordBackup(b: { id: string; requestId: string; stepId: string; kind: string; source: string; location: string; rows: number }): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.t('backups')} (id, request_id, step_id, kind, source, location, rows) VALUES ($1,$2,$3,$4,$5,$6,$7)
       ON CONFLICT (id) DO UPDATE SET location = EXCLUDED.location, rows = EXCLUDED.rows`,
      [b.id, b.requestId, b.stepId, b.kind, b.source, b.location, b.rows],
    );
  }

  async backups(): Promise<Array<{ id: string; requestId: string; kind: string; source: string; location: string; rows: number; createdAt: Date }>> {
    const res = await this.pool.query(`SELECT * FROM ${this.t('backups')} ORDER BY created_at DESC`);
    return res.rows.map((r) => rowTo(r));
  }

  async backup(id: string): Promise<{ id: string; requestId: string; kind: string; source: string; location: string; rows: number } | null> {
    const res = await this.pool.query(`SELECT * FROM ${this.t('backups')} WHERE id = $1`, [id]);
    return res.rows[0] ? rowTo(res.rows[0]) : null;
  }
}
