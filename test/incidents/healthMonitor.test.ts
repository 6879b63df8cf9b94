import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeServices, type FakeServices } from '../../src/sandbox/fakeServices.js';
import { ROOT } from '../support/env.js';
import { startIncidentBot, until, type IncidentBot } from './support.js';

const LEE = 'U0FAKEUS2';
const actionIds = (c: { body: Record<string, unknown> }) =>
  ((c.body.blocks ?? []) as Array<{ type: string; elements?: Array<{ action_id?: string; text?: { text: string } }> }>).filter((b) => b.type === 'actions').flatMap((b) => b.elements!.map((e) => e.action_id));

describe('health monitor (repeatable BullMQ job polling ML-Analyze /health)', () => {
  let services: FakeServices;
  let bot: IncidentBot;
  let scratch: string;
  const healthChecks = () => services.calls.filter((c) => c.service === 'ml-analyze' && c.path === '/health');
  const failures = async () => Number((await bot.env.db.query<{ n: number }>("SELECT consecutive_failures AS n FROM ml_rollback.health_monitor WHERE target = 'ml-analyze'")).rows[0]?.n ?? 0);

  beforeEach(async () => {
    // The docker stand-ins keep their state here (planning a container rollback asks `compose ps`).
    scratch = mkdtempSync(path.join(tmpdir(), 'mlrb-inc-'));
    process.env.SANDBOX_STATE = path.join(scratch, 'state.json');
    services = await startFakeServices();
    bot = await startIncidentBot({
      monitor: true,
      env: { ML_ANALYZE_URL: services.urls.mlAnalyze },
      file: {
        incidents: { monitor: { intervalMs: 150, timeoutMs: 1000 } },
        targets: { compose: { file: path.join(ROOT, 'sandbox/compose.yml'), previousTag: '1.4.1' } },
      },
    });
  });
  afterEach(async () => {
    await bot.close();
    await services.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('2+ consecutive failures → exactly one P1 with a container-rollback button (still needs an approver); recovery is posted in its thread', async () => {
    await until(async () => healthChecks().length >= 3, 'a few healthy checks');
    expect(bot.announcements()).toHaveLength(0);

    services.setHealthy('ml-analyze', false);
    const ann = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && !c.body.thread_ts, 10_000);
    const annTs = String(ann.response.ts);
    expect(JSON.stringify(ann.body.blocks)).toContain('INCIDENT:* ML-Analyze Service [P1]');
    expect(JSON.stringify(ann.body.blocks)).toContain('HTTP 503');
    expect(actionIds(ann)).toContain('incident_plan_container');
    const [declared] = await bot.runtime.incidents.istore.events('INC-1');
    expect(declared!.detail).toMatchObject({ failures: 2 });
    const fromSecondFailure = ann.at - Date.parse(String(declared!.detail.checkedAt));
    console.info(`health monitor: second failed check → announcement posted in ${fromSecondFailure} ms`);
    expect(fromSecondFailure).toBeLessThan(2000);

    // However many failures follow: still one announcement, one incident.
    await until(async () => (await failures()) >= 8, 'eight consecutive failures');
    expect(bot.announcements()).toHaveLength(1);
    expect((await bot.env.db.query('SELECT id FROM ml_rollback.incidents')).rows).toEqual([{ id: 'INC-1' }]);

    // The button plans a real container rollback as the clicking user, in the incident's thread, awaiting approval.
    await bot.click('incident_plan_container', 'INC-1|container', LEE);
    const plan = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && c.body.thread_ts === annTs && JSON.stringify(c.body.blocks ?? '').includes('rollback_approve'));
    expect(JSON.stringify(plan.body.blocks)).toContain('Container rollback (Docker Compose)');
    const req = await until(() => bot.runtime.store.getRequest('R-1'), 'R-1');
    expect(req).toMatchObject({ procedure: 'container', requester: LEE, state: 'awaiting_approval', incidentId: 'INC-1' });
    // The requester cannot approve their own plan.
    await bot.click('rollback_approve', 'R-1', LEE);
    await bot.slack.waitFor((c) => c.method === 'response_url' && /approve/i.test(String(c.body.text)) && String(c.body.text).includes('R-1'));
    expect((await bot.runtime.store.getRequest('R-1'))!.state).toBe('awaiting_approval');

    services.setHealthy('ml-analyze', true);
    const back = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && c.body.thread_ts === annTs && String(c.body.text).includes('answers again'), 10_000);
    expect(String(back.body.text)).toMatch(/after \d+ failed checks/);
    expect((await bot.runtime.incidents.get('INC-1'))!.status).toBe('investigating');
    expect(bot.announcements()).toHaveLength(1);
  });

  it('with an incident already open, failures are posted in its thread (with the rollback button) instead of a new P1', async () => {
    await bot.command('incident declare P2 matching is slow', { user_id: LEE });
    const ann = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && !c.body.thread_ts);
    services.setHealthy('ml-analyze', false);
    const note = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && c.body.thread_ts === ann.response.ts && String(c.body.text).includes('consecutive checks'), 10_000);
    expect(actionIds(note)).toEqual(['incident_plan_container', 'incident_plan_verify']);
    await until(async () => (await failures()) >= 5, 'five consecutive failures');
    expect(bot.announcements()).toHaveLength(1);
    expect(bot.slack.calls.filter((c) => c.method === 'chat.postMessage' && String(c.body.text).includes('consecutive checks'))).toHaveLength(1);
  });
});
