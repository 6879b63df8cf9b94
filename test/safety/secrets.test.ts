import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttp } from '../../src/bot/http.js';
import { createSlackEdge } from '../../src/bot/slackApp.js';
import { createWebClient } from '../../src/bot/slackClient.js';
import { SlackNotifier } from '../../src/bot/slackNotifier.js';
import type { Exec } from '../../src/rollback/exec.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { SUPPLIER_A } from '../../src/sandbox/seed.js';
import { ADMIN_URL, createTestEnv, memoryLogger, ROOT, type TestEnv } from '../support/env.js';
import { startFakeSlack, type FakeSlack } from '../support/fakeSlack.js';
import { blockActionsBody, postSigned, slashCommandBody } from '../support/slackSign.js';
import { APPROVER, REQUESTER, until } from './helpers.js';

const BOT_TOKEN = `xoxb-7777-${randomBytes(8).toString('hex')}`;
const SIGNING_SECRET = `sig${randomBytes(12).toString('hex')}`;

describe('secrets never leave: Slack, logs, audit, step output, child argv; the audit trail is not the bot role\'s to change', () => {
  let env: TestEnv;
  let slack: FakeSlack;
  let rt: Runtime;
  let closeHttp: () => Promise<void>;
  const role = `mlrb_secret_${randomBytes(4).toString('hex')}`;
  const password = `pw${randomBytes(10).toString('hex')}`;

  afterEach(async () => {
    await closeHttp?.();
    await rt?.close();
    await slack?.close();
    await env.cleanup();
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  it('a full request with a password in DATABASE_URL, a bot token and a signing secret leaks none of them', async () => {
    env = await createTestEnv();
    const dbName = new URL(env.databaseUrl).pathname.slice(1);
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    await admin.query(`GRANT ALL ON DATABASE ${dbName} TO ${role}`);
    await admin.end();
    await env.db.query(`GRANT ALL ON SCHEMA public TO ${role}; GRANT ALL ON ALL TABLES IN SCHEMA public TO ${role}; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
    const u = new URL(env.databaseUrl);
    u.username = role;
    u.password = password;
    const roleUrl = u.toString();

    slack = await startFakeSlack();
    const { log, lines } = memoryLogger('debug');
    const config = env.config({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl, DATABASE_URL: roleUrl, LOG_LEVEL: 'debug' });
    const client = createWebClient(BOT_TOKEN, config.slack.apiUrl);
    rt = await createRuntime(config, log, { notifier: (store) => new SlackNotifier(client, store, log, 50), runWorker: true, cancelPollMs: 100, maintenanceIntervalMs: 60_000 });
    const execs: Array<{ argv: readonly string[]; env: Readonly<Record<string, string>> }> = [];
    const real = rt.deps.exec;
    (rt.deps as { exec: Exec }).exec = async (argv, opts) => {
      execs.push({ argv: [...argv], env: { ...opts.env } });
      return real(argv, opts);
    };
    const edge = createSlackEdge(config.slack, { service: rt.service, log }, log);
    const http = await startHttp({ port: 0, log, metrics: rt.metrics, slack: edge.requestListener!, ready: () => rt.ready() });
    closeHttp = http.close;
    const events = `http://127.0.0.1:${http.port}/slack/events`;

    await postSigned(events, SIGNING_SECRET, slashCommandBody({ text: `data clear-embeddings --supplier ${SUPPLIER_A}`, user_id: REQUESTER, response_url: slack.responseUrl('c1') }));
    await slack.waitFor((c) => c.method === 'response_url' && String(c.body.text).startsWith('R-1 planned'));
    await postSigned(events, SIGNING_SECRET, blockActionsBody({ userId: APPROVER, actionId: 'rollback_approve', value: 'R-1', responseUrl: slack.responseUrl('a1') }));
    await until(async () => ['succeeded', 'failed'].includes((await rt.store.getRequest('R-1'))!.state), 'R-1 to finish', 30_000);
    expect((await rt.store.getRequest('R-1'))!.state).toBe('succeeded');
    // Error paths too: bad input, a refused click, history export.
    await postSigned(events, SIGNING_SECRET, slashCommandBody({ text: `data clear-embeddings --supplier ${password}`, user_id: REQUESTER, response_url: slack.responseUrl('c2') }));
    await postSigned(events, SIGNING_SECRET, slashCommandBody({ text: 'history 50 --json', user_id: REQUESTER, response_url: slack.responseUrl('c3') }));
    await slack.waitFor((c) => c.method === 'response_url' && c.responseId === 'c3');
    await slack.waitFor((c) => c.method === 'chat.postMessage' && JSON.stringify(c.body).includes('Health verification checklist'));

    // pg_dump got its credentials through the environment, never through argv.
    expect(execs.some((e) => e.argv[0]?.includes('pg_dump'))).toBe(true);
    expect(execs.some((e) => e.env.PGPASSWORD === password)).toBe(true);

    const superuser = env.db;
    const audit = (await superuser.query('SELECT * FROM ml_rollback.audit')).rows;
    const steps = (await superuser.query('SELECT * FROM ml_rollback.step_runs')).rows;
    const requests = (await superuser.query('SELECT * FROM ml_rollback.requests')).rows;
    const backups = (await superuser.query('SELECT * FROM ml_rollback.backups')).rows;
    const surfaces: Record<string, string> = {
      logs: lines.join('\n'),
      slack: JSON.stringify(slack.calls.map((c) => ({ body: c.body, response: c.response }))),
      audit: JSON.stringify(audit),
      steps: JSON.stringify(steps),
      requests: JSON.stringify(requests),
      backups: JSON.stringify(backups),
      argv: JSON.stringify(execs.map((e) => e.argv)),
    };
    expect(audit.length).toBeGreaterThan(5);
    expect(lines.length).toBeGreaterThan(5);
    expect(slack.calls.length).toBeGreaterThan(5);
    for (const [where, text] of Object.entries(surfaces)) {
      for (const secret of [password, BOT_TOKEN, SIGNING_SECRET]) {
        const at = text.indexOf(secret);
        expect(at, `${where} must not contain a secret: …${text.slice(Math.max(0, at - 200), at + 40)}`).toBe(-1);
      }
    }

    // The audit trail: the bot's own (non-superuser) role may not change it — privileges, then the trigger.
    const asBot = new pg.Client({ connectionString: roleUrl });
    await asBot.connect();
    try {
      await expect(asBot.query(`UPDATE ml_rollback.audit SET action = 'nothing happened'`)).rejects.toThrow(/permission denied/);
      await expect(asBot.query('DELETE FROM ml_rollback.audit')).rejects.toThrow(/permission denied/);
      await expect(asBot.query('TRUNCATE ml_rollback.audit')).rejects.toThrow(/permission denied/);
      await expect(asBot.query(`INSERT INTO ml_rollback.audit (actor, action) VALUES ('test', 'appended')`)).resolves.toBeDefined();
    } finally {
      await asBot.end();
    }
    await expect(superuser.query(`UPDATE ml_rollback.audit SET action = 'x'`)).rejects.toThrow(/append-only/);
    await expect(superuser.query('TRUNCATE ml_rollback.audit')).rejects.toThrow(/append-only/);

    // Who pressed which button, every step's start and end with rows and exit code, in order.
    const actions = audit.map((a: { action: string }) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['requested', 'approved', 'run-started', 'step-started', 'step-finished', 'run-succeeded', 'refused-input']));
    const finished = audit.filter((a: { action: string; detail: { rows?: number } }) => a.action === 'step-finished');
    expect(finished.map((a: { detail: { rows?: number } }) => a.detail.rows)).toContain(120);

    // The export CLI: JSON lines, filtered, with the same redaction.
    const out = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts'), 'audit', '--request', 'R-1'], {
      env: { ...process.env, ...env.env({ DATABASE_URL: roleUrl }) },
      cwd: ROOT,
    });
    const exported = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as { requestId: string; action: string });
    expect(exported.every((r) => r.requestId === 'R-1')).toBe(true);
    expect(exported.map((r) => r.action)).toEqual(expect.arrayContaining(['requested', 'approved', 'run-succeeded']));
    expect(out.stdout.includes(password)).toBe(false);
    const bad = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts'), 'audit', '--request', '../etc'], {
      env: { ...process.env, ...env.env({ DATABASE_URL: roleUrl }) },
      cwd: ROOT,
    }).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toMatch(/usage: ml-rollback audit/);
  }, 90_000);
});
