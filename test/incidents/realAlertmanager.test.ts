import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort } from '../support/childBot.js';
import { ALERT_TOKEN, startIncidentBot, until, type IncidentBot } from './support.js';

const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
const HAVE_ALERTMANAGER = existsSync(ALERTMANAGER);
if (!HAVE_ALERTMANAGER) console.warn(`skipping the real-Alertmanager test: ${ALERTMANAGER} is absent (apt-get install prometheus-alertmanager, or scripts/ensure-services.sh)`);

/** Debian's Alertmanager on loopback, clustering off, routing everything to the bot's /alerts with the bearer token. */
async function startAlertmanager(dir: string, botUrl: string): Promise<{ url: string; proc: ChildProcess; output: () => string }> {
  const port = await freePort();
  const config = path.join(dir, 'alertmanager.yml');
  writeFileSync(
    config,
    stringify({
      route: { receiver: 'ml-chatops', group_by: ['alertname', 'service'], group_wait: '100ms', group_interval: '1s', repeat_interval: '1h' },
      receivers: [
        {
          name: 'ml-chatops',
          webhook_configs: [{ url: `${botUrl}/alerts`, send_resolved: true, http_config: { authorization: { type: 'Bearer', credentials: ALERT_TOKEN } } }],
        },
      ],
    }),
  );
  let out = '';
  const proc = spawn(ALERTMANAGER, [`--config.file=${config}`, `--storage.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=info'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  await until(async () => (await fetch(`${url}/-/ready`).catch(() => null))?.ok, `Alertmanager ready on ${url}\n${out}`, 20_000);
  return { url, proc, output: () => out };
}

describe('the real Prometheus Alertmanager → POST /alerts', () => {
  let bot: IncidentBot | undefined;
  let am: { proc: ChildProcess } | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    if (am?.proc.exitCode === null) {
      const exited = new Promise((r) => am!.proc.once('exit', r));
      am.proc.kill('SIGTERM');
      await exited;
    }
    await bot?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!HAVE_ALERTMANAGER)('an alert posted to its v2 API becomes one P1 incident, and its end is posted in the incident thread', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mlrb-am-'));
    bot = await startIncidentBot();
    const started = await startAlertmanager(dir, bot.url);
    am = started;
    const alert = {
      labels: { alertname: 'MLAnalyzeHealthCheckFailing', service: 'ml-analyze', team: 'ml' },
      annotations: { summary: 'ML-Analyze /health failed 2+ consecutive checks' },
      generatorURL: 'http://prometheus.local/graph',
    };
    const post = (body: unknown) => fetch(`${started.url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const now = Date.now();
    expect((await post([{ ...alert, startsAt: new Date(now - 60_000).toISOString() }])).status).toBe(200);

    const ann = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && !c.body.thread_ts, 20_000).catch((err: Error) => {
      throw new Error(`${err.message}\nalertmanager said:\n${started.output()}`);
    });
    expect(JSON.stringify(ann.body.blocks)).toContain('INCIDENT:* ML-Analyze Service [P1]');
    expect(JSON.stringify(ann.body.blocks)).toContain('MLAnalyzeHealthCheckFailing');

    // The same alert again (Prometheus re-sends it every evaluation): still one incident.
    expect((await post([{ ...alert, startsAt: new Date(now - 60_000).toISOString() }])).status).toBe(200);
    // Ended: endsAt in the past makes Alertmanager send the group as resolved.
    expect((await post([{ ...alert, startsAt: new Date(now - 60_000).toISOString(), endsAt: new Date(Date.now() - 1000).toISOString() }])).status).toBe(200);
    const resolved = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && c.body.thread_ts === ann.response.ts && String(c.body.text).includes('Alertmanager: resolved'), 20_000);
    expect(String(resolved.body.text)).toContain('MLAnalyzeHealthCheckFailing');
    expect(bot.announcements()).toHaveLength(1);
    const incidents = (await bot.env.db.query('SELECT id, severity, source FROM ml_rollback.incidents')).rows;
    expect(incidents).toEqual([{ id: 'INC-1', severity: 'P1', source: 'alert' }]);
  });
});
