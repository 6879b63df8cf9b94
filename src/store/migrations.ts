/**
 * The bot's own schema, versioned. Applied at start under an advisory lock, so two processes
 * starting together migrate once. `{{schema}}` is the configured schema name (validated identifier).
 */
export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'requests, approvals, step runs, audit, backups',
    sql: `
CREATE SEQUENCE {{schema}}.request_seq;
CREATE TABLE {{schema}}.requests (
  id               text PRIMARY KEY,
  procedure        text NOT NULL,
  command          text NOT NULL,
  args             jsonb NOT NULL,
  plan             jsonb NOT NULL,
  plan_hash        text NOT NULL,
  approved_hash    text,
  risk             text NOT NULL,
  state            text NOT NULL CHECK (state IN ('awaiting_approval','approved','running','succeeded','failed',
                                                  'cancelled','rejected','expired','interrupted','dry_run')),
  requester        text NOT NULL,
  channel_id       text NOT NULL,
  channel_name     text,
  message_ts       text,
  thread_ts        text,
  progress_ts      text,
  incident_id      text,
  emergency_reason text,
  approvals_needed int NOT NULL DEFAULT 1,
  run_no           int NOT NULL DEFAULT 0,
  resume_from      int NOT NULL DEFAULT 0,
  cancel_requested boolean NOT NULL DEFAULT false,
  error            jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz,
  started_at       timestamptz,
  finished_at      timestamptz
);
CREATE INDEX requests_state_idx ON {{schema}}.requests (state);
CREATE INDEX requests_created_idx ON {{schema}}.requests (created_at DESC);

CREATE TABLE {{schema}}.decisions (
  request_id text NOT NULL REFERENCES {{schema}}.requests(id),
  user_id    text NOT NULL,
  decision   text NOT NULL CHECK (decision IN ('approve','reject')),
  emergency  boolean NOT NULL DEFAULT false,
  at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (request_id, user_id)
);

CREATE TABLE {{schema}}.step_runs (
  id          bigserial PRIMARY KEY,
  request_id  text NOT NULL REFERENCES {{schema}}.requests(id),
  run_no      int NOT NULL,
  step_index  int NOT NULL,
  step_id     text NOT NULL,
  attempt     int NOT NULL,
  state       text NOT NULL CHECK (state IN ('running','succeeded','failed','interrupted','cancelled','skipped')),
  worker      text NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  exit_code   int,
  rows        bigint,
  keys        bigint,
  summary     text,
  output_tail text,
  result      jsonb,
  UNIQUE (request_id, step_index, attempt)
);

CREATE TABLE {{schema}}.audit (
  id         bigserial PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  request_id text,
  incident_id text,
  actor      text NOT NULL,
  action     text NOT NULL,
  detail     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_request_idx ON {{schema}}.audit (request_id, id);
CREATE FUNCTION {{schema}}.audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON {{schema}}.audit
  FOR EACH ROW EXECUTE FUNCTION {{schema}}.audit_is_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {{schema}}.audit
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_is_append_only();

CREATE TABLE {{schema}}.backups (
  id          text PRIMARY KEY,
  request_id  text,
  step_id     text,
  kind        text NOT NULL,
  source      text NOT NULL,
  location    text NOT NULL,
  rows        bigint,
  created_at  timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    version: 2,
    name: 'incidents, their timeline, alert groups, health monitor state',
    sql: `
CREATE SEQUENCE {{schema}}.incident_seq;
CREATE TABLE {{schema}}.incidents (
  id             text PRIMARY KEY,
  severity       text NOT NULL CHECK (severity IN ('P1','P2','P3','P4')),
  status         text NOT NULL CHECK (status IN ('investigating','identified','resolved')),
  impact         text NOT NULL,
  eta            text,
  actions        text,
  source         text NOT NULL CHECK (source IN ('human','health','alert')),
  declared_by    text NOT NULL,
  channel_id     text NOT NULL,
  message_ts     text,
  reminder_job   text,
  reminders      int NOT NULL DEFAULT 0,
  started_at     timestamptz NOT NULL DEFAULT now(),
  last_update_at timestamptz NOT NULL DEFAULT now(),
  resolved_at    timestamptz,
  resolved_by    text
);
CREATE INDEX incidents_open_idx ON {{schema}}.incidents (started_at DESC) WHERE status <> 'resolved';

CREATE TABLE {{schema}}.incident_events (
  id          bigserial PRIMARY KEY,
  incident_id text NOT NULL REFERENCES {{schema}}.incidents(id),
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,
  kind        text NOT NULL,
  text        text NOT NULL,
  detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_events_idx ON {{schema}}.incident_events (incident_id, id);

-- One row per Alertmanager group: the primary key is what makes repeats and an HA pair's
-- concurrent duplicate deliveries land on one incident.
CREATE TABLE {{schema}}.alert_groups (
  group_hash   text PRIMARY KEY,
  group_key    text NOT NULL,
  incident_id  text REFERENCES {{schema}}.incidents(id),
  status       text NOT NULL CHECK (status IN ('firing','resolved')),
  fingerprints text[] NOT NULL DEFAULT '{}',
  deliveries   int NOT NULL DEFAULT 0,
  first_at     timestamptz NOT NULL DEFAULT now(),
  last_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE {{schema}}.health_monitor (
  target               text PRIMARY KEY,
  consecutive_failures int NOT NULL DEFAULT 0,
  healthy              boolean,
  incident_id          text REFERENCES {{schema}}.incidents(id),
  last_error           text,
  last_checked_at      timestamptz
);
`,
  },
  {
    // Version 2 belongs to incidents; versions apply in order and a missing one is applied when it appears.
    version: 3,
    name: 'audit trail: no UPDATE, DELETE or TRUNCATE for the bot role',
    // Privileges stop an ordinary role; a superuser bypasses privileges, and for it the
    // append-only triggers of version 1 are the enforcement.
    sql: `
REVOKE UPDATE, DELETE, TRUNCATE ON {{schema}}.audit FROM PUBLIC;
DO $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I.audit FROM %I', '{{schema}}', current_user);
  END IF;
END $$;
`,
  },
  {
    version: 4,
    name: 'step runs remember their child process groups',
    // A worker killed mid-step leaves its children running (they lead their own process groups);
    // the next worker on that host ends them before it decides what to do with the step.
    sql: `ALTER TABLE {{schema}}.step_runs ADD COLUMN children jsonb NOT NULL DEFAULT '[]';`,
  },
];
