import { afterEach, describe, expect, it } from 'vitest';
import { alertSeverity, groupHash } from '../../src/incidents/alerts.js';
import { tokenMatches } from '../../src/incidents/webhook.js';
import { alertPayload, startIncidentBot, type IncidentBot } from './support.js';

const rows = async (bot: IncidentBot, table: string) => Number((await bot.env.db.query<{ n: string }>(`SELECT count(*) AS n FROM ml_rollback.${table}`)).rows[0]!.n);

describe('alert → severity mapping (the runbook\'s five alerts, configurable)', () => {
  const a = (labels: Record<string, string>) => ({ labels });
  it('maps the default alert names, honours a severity label, and the YAML map by name or label', () => {
    expect(alertSeverity(a({ alertname: 'MLAnalyzeHealthCheckFailing' }), {})).toBe('P1');
    expect(alertSeverity(a({ alertname: 'MLAnalyzeDBPoolExhausted' }), {})).toBe('P1');
    expect(alertSeverity(a({ alertname: 'MLAnalyzeHighErrorRate' }), {})).toBe('P2');
    expect(alertSeverity(a({ alertname: 'MLAnalyzeHighLatencyP95' }), {})).toBe('P2');
    expect(alertSeverity(a({ alertname: 'MLAnalyzeHighMemory' }), {})).toBe('P3');
    expect(alertSeverity(a({ alertname: 'SomethingElse' }), {})).toBe('P3');
    expect(alertSeverity(a({ alertname: 'MLAnalyzeHighMemory', severity: 'p1' }), {})).toBe('P1');
    expect(alertSeverity(a({ alertname: 'MLAnalyzeHighMemory', severity: 'critical' }), { 'severity=critical': 'P2' })).toBe('P2');
    expect(alertSeverity(a({ alertname: 'MLAnalyzeHighMemory' }), { MLAnalyzeHighMemory: 'P4' })).toBe('P4');
  });
  it('compares tokens without leaking length', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abd', 'abc')).toBe(false);
    expect(tokenMatches('abcd', 'abc')).toBe(false);
  });
});

describe('POST /alerts (Alertmanager webhook, version 4)', () => {
  let bot: IncidentBot;
  afterEach(async () => {
    await bot.close();
  });

  it('refuses bad tokens (401), oversized bodies (413) and malformed payloads (400), changing nothing', async () => {
    bot = await startIncidentBot();
    const firing = alertPayload({ status: 'firing' });
    expect((await bot.postAlert(firing, { token: null })).status).toBe(401);
    expect((await bot.postAlert(firing, { token: 'alert-token-0123456789abcdeX' })).status).toBe(401);
    expect((await bot.postAlert(firing, { token: 'short' })).status).toBe(401);
    expect((await bot.postAlert(null, { raw: JSON.stringify({ ...firing, padding: 'x'.repeat(300 * 1024) }) })).status).toBe(413);
    expect((await bot.postAlert(null, { raw: '{"version":"4",' })).status).toBe(400);
    const noGroup = await bot.postAlert({ ...firing, groupKey: undefined });
    expect(noGroup.status).toBe(400);
    expect(noGroup.body).toContain('groupKey');
    expect((await bot.postAlert({ ...firing, alerts: [{ status: 'burning', labels: {} }] })).status).toBe(400);
    expect((await bot.postAlert([firing])).status).toBe(400);
    const get = await fetch(`${bot.url}/alerts`, { headers: { authorization: 'Bearer alert-token-0123456789abcdef' } });
    expect(get.status).toBe(405);
    expect(await rows(bot, 'incidents')).toBe(0);
    expect(await rows(bot, 'alert_groups')).toBe(0);
    expect(bot.announcements()).toHaveLength(0);
  });

  it('401 for every request when no ALERT_WEBHOOK_TOKEN is configured', async () => {
    bot = await startIncidentBot({ env: { ALERT_WEBHOOK_TOKEN: '' } });
    expect((await bot.postAlert(alertPayload({ status: 'firing' }))).status).toBe(401);
    expect((await bot.postAlert(alertPayload({ status: 'firing' }), { token: '' })).status).toBe(401);
    expect(await rows(bot, 'incidents')).toBe(0);
  });

  it('firing → one P2 incident; repeats and concurrent duplicates → no second announcement; resolved → posted in its thread', async () => {
    bot = await startIncidentBot();
    const firing = alertPayload({ status: 'firing', alertname: 'MLAnalyzeHighErrorRate' });
    // An HA pair delivering the same notification at the same time, twice over.
    const results = await Promise.all([bot.postAlert(firing), bot.postAlert(firing), bot.postAlert(firing), bot.postAlert(firing)]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const kinds = results.map((r) => (JSON.parse(r.body) as { kind: string }).kind).sort();
    expect(kinds).toEqual(['declared', 'repeat', 'repeat', 'repeat']);
    const ann = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && !c.body.thread_ts);
    const annTs = String(ann.response.ts);
    expect(JSON.stringify(ann.body.blocks)).toContain('INCIDENT:* ML-Analyze Service [P2]');
    expect(JSON.stringify(ann.body.blocks)).toContain('MLAnalyzeHighErrorRate');
    expect(ann.body.channel).toBe('ml-analyze');

    // Alertmanager's repeat_interval re-sends the same group: nothing new.
    expect(JSON.parse((await bot.postAlert(firing)).body)).toMatchObject({ kind: 'repeat', incidentId: 'INC-1' });
    expect(bot.announcements()).toHaveLength(1);
    expect(await rows(bot, 'incidents')).toBe(1);
    const [group] = (await bot.env.db.query('SELECT * FROM ml_rollback.alert_groups')).rows as Array<{ group_hash: string; deliveries: number; incident_id: string }>;
    expect(group).toMatchObject({ group_hash: groupHash(firing.groupKey), deliveries: 5, incident_id: 'INC-1' });

    const resolved = alertPayload({ status: 'resolved', alertname: 'MLAnalyzeHighErrorRate' });
    const [r1, r2] = await Promise.all([bot.postAlert(resolved), bot.postAlert(resolved)]);
    expect([JSON.parse(r1!.body).kind, JSON.parse(r2!.body).kind].sort()).toEqual(['ignored', 'resolved']);
    const note = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && c.body.thread_ts === annTs && String(c.body.text).includes('resolved'));
    expect(String(note.body.text)).toContain('MLAnalyzeHighErrorRate: error rate above 5%');
    expect(bot.slack.calls.filter((c) => c.method === 'chat.postMessage' && c.body.thread_ts === annTs && String(c.body.text).includes('Alertmanager: resolved'))).toHaveLength(1);
    // Resolving the incident stays a human decision.
    expect((await bot.runtime.incidents.get('INC-1'))!.status).toBe('investigating');

    // A different alert while INC-1 is open joins it (posted in its thread), with its own severity noted.
    const pool = alertPayload({ status: 'firing', alertname: 'MLAnalyzeDBPoolExhausted', summary: 'no free DB connections', fingerprint: 'aa11' });
    expect(JSON.parse((await bot.postAlert(pool)).body)).toMatchObject({ kind: 'attached', incidentId: 'INC-1' });
    const joined = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && c.body.thread_ts === annTs && String(c.body.text).includes('MLAnalyzeDBPoolExhausted'));
    expect(String(joined.body.text)).toContain('(P1)');
    expect(bot.announcements()).toHaveLength(1);

    // After a person resolves it, the same group firing again is a new incident.
    await bot.runtime.incidents.resolve('INC-1', 'U0FAKEUS1');
    expect(JSON.parse((await bot.postAlert(firing)).body)).toMatchObject({ kind: 'declared', incidentId: 'INC-2' });
  });

  it('a severity label on the alert and the YAML alerts map set the incident\'s severity', async () => {
    bot = await startIncidentBot({ file: { alerts: { MLAnalyzeHighMemory: 'P2' } } });
    const mem = alertPayload({ status: 'firing', alertname: 'MLAnalyzeHighMemory', summary: 'memory above 85%' });
    expect(JSON.parse((await bot.postAlert(mem)).body)).toMatchObject({ kind: 'declared' });
    expect((await bot.runtime.incidents.get('INC-1'))!.severity).toBe('P2');
    await bot.runtime.incidents.resolve('INC-1', 'U0FAKEUS1');
    const labelled = alertPayload({ status: 'firing', alertname: 'MLAnalyzeHighMemory', groupKey: 'other', labels: { severity: 'P4' } });
    await bot.postAlert(labelled);
    expect((await bot.runtime.incidents.get('INC-2'))!.severity).toBe('P4');
  });
});
