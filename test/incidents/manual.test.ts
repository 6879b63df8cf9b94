import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsoleIncidentNotifier } from '../../src/bot/consoleIncidents.js';
import { runConsole } from '../../src/bot/console.js';
import { ConsoleNotifier } from '../../src/bot/consoleNotifier.js';
import { createRuntime } from '../../src/runtime.js';
import { SUPPLIER_A } from '../../src/sandbox/seed.js';
import { createTestEnv, memoryLogger } from '../support/env.js';
import { startIncidentBot, until, type IncidentBot } from './support.js';

const DANA = 'U0FAKEUS1';
const LEE = 'U0FAKEUS2';

const blocksOf = (c: { body: Record<string, unknown> }) => JSON.stringify(c.body.blocks ?? '');
const actionIds = (c: { body: Record<string, unknown> }) =>
  ((c.body.blocks ?? []) as Array<{ type: string; elements?: Array<{ action_id?: string }> }>).filter((b) => b.type === 'actions').flatMap((b) => b.elements!.map((e) => e.action_id));

describe('incidents declared by people, in Slack', () => {
  let bot: IncidentBot;
  afterEach(async () => {
    await bot.close();
  });

  it('declare → announcement in the runbook template with buttons; update (command and signed modal) edits it and posts in its thread; resolve closes it', async () => {
    bot = await startIncidentBot();
    const res = await bot.command('incident declare P2 matching results are stale for all suppliers', { user_id: DANA });
    expect(res.status).toBe(200);
    const ann = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && !c.body.thread_ts);
    const annTs = String(ann.response.ts);
    const text = blocksOf(ann);
    for (const line of ['INCIDENT:* ML-Analyze Service [P2]', 'STATUS:* Investigating', 'IMPACT:* matching results are stale for all suppliers', 'START:*', 'ETA:* unknown', 'ACTIONS:* none yet']) expect(text).toContain(line);
    expect(actionIds(ann)).toEqual(['incident_update', 'incident_resolve', 'incident_plan_container', 'incident_plan_verify']);
    const reply = await bot.slack.waitFor('response_url');
    expect(String(reply.body.text)).toMatch(/^INC-1 declared \(P2, response time 1 h\)/);

    // By command: the announcement is edited in place and the change is posted in its thread.
    await bot.command('incident update INC-1 --status identified --eta 30 min', { user_id: DANA });
    const edited = await bot.slack.waitFor((c) => c.method === 'chat.update' && c.body.ts === annTs);
    expect(blocksOf(edited)).toContain('STATUS:* Identified');
    expect(blocksOf(edited)).toContain('ETA:* 30 min');
    const note = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && c.body.thread_ts === annTs);
    expect(String(note.body.text)).toContain('STATUS Investigating → Identified');

    // The Update button opens a modal with the trigger_id of the click, prefilled.
    const click = await bot.click('incident_update', 'INC-1', LEE, '9999999999.2222222222.0fakeTriggerForUpdate00');
    expect(click.status).toBe(200);
    const opened = await bot.slack.waitFor('views.open');
    expect(opened.body.trigger_id).toBe('9999999999.2222222222.0fakeTriggerForUpdate00');
    const view = opened.body.view as { callback_id: string; private_metadata: string; blocks: Array<{ block_id?: string; element?: { initial_value?: string; initial_option?: { value: string } } }> };
    expect(view.callback_id).toBe('incident_update_modal');
    expect(view.blocks.find((b) => b.block_id === 'status')?.element?.initial_option?.value).toBe('identified');
    expect(view.blocks.find((b) => b.block_id === 'eta')?.element?.initial_value).toBe('30 min');

    // A bad submission is answered with errors under the field and changes nothing.
    const bad = await bot.submitView(LEE, view.callback_id, view.private_metadata, {
      status: { status: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: 'Identified' }, value: 'identified' } } },
      eta: { eta: { type: 'plain_text_input', value: 'x'.repeat(1001) } },
    });
    expect(bad.status).toBe(200);
    expect(JSON.parse(bad.body)).toEqual({ response_action: 'errors', errors: { eta: expect.stringContaining('at most 1000 characters') } });
    expect((await bot.runtime.incidents.get('INC-1'))!.eta).toBe('30 min');

    const updatesBefore = bot.slack.callsOf('chat.update').length;
    const good = await bot.submitView(LEE, view.callback_id, view.private_metadata, {
      status: { status: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: 'Identified' }, value: 'identified' } } },
      impact: { impact: { type: 'plain_text_input', value: null } },
      eta: { eta: { type: 'plain_text_input', value: '14:30 UTC' } },
      actions: { actions: { type: 'plain_text_input', value: 'rolling back the 1.5.0 deploy' } },
    });
    expect(good.status).toBe(200);
    expect(good.body).toBe('');
    const viaModal = await bot.slack.waitFor((c) => c.method === 'chat.update' && c.body.ts === annTs && bot.slack.callsOf('chat.update').indexOf(c) >= updatesBefore);
    expect(blocksOf(viaModal)).toContain('ETA:* 14:30 UTC');
    expect(blocksOf(viaModal)).toContain('ACTIONS:* rolling back the 1.5.0 deploy');
    expect(blocksOf(viaModal)).toContain('STATUS:* Identified');
    const inc = (await bot.runtime.incidents.get('INC-1'))!;
    expect(inc).toMatchObject({ status: 'identified', eta: '14:30 UTC', impact: 'matching results are stale for all suppliers' });

    // Resolve: the announcement loses its buttons; the resolution is in the thread; a second click changes nothing.
    await bot.click('incident_resolve', 'INC-1', LEE);
    const resolved = await bot.slack.waitFor((c) => c.method === 'chat.update' && c.body.ts === annTs && blocksOf(c).includes('STATUS:* Resolved'));
    expect(actionIds(resolved)).toEqual([]);
    await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && c.body.thread_ts === annTs && String(c.body.text).includes('Resolved'));
    await bot.click('incident_resolve', 'INC-1', DANA);
    const again = await bot.slack.waitFor((c) => c.method === 'response_url' && String(c.body.text).includes('already resolved'));
    expect(again).toBeTruthy();
    // A submission for a resolved incident is refused inside the ack.
    const late = await bot.submitView(LEE, view.callback_id, view.private_metadata, { eta: { eta: { type: 'plain_text_input', value: 'soon' } } });
    expect(JSON.parse(late.body).errors.status).toContain('already resolved');

    const list = await bot.runtime.service.handle('incident list', { userId: DANA, channelId: 'C0FAKE0CH', channelName: 'ml-analyze' });
    expect(list.text).toMatch(/^INC-1 {2}P2 {2}Resolved/);
    const trail = await bot.runtime.store.auditTrail({ limit: 100 });
    expect(trail.filter((a) => a.incidentId === 'INC-1').map((a) => a.action)).toEqual(['incident-declared', 'incident-updated', 'incident-updated', 'incident-resolved']);
  });

  it('a rollback requested during an incident is planned in its thread, listed under ACTIONS, and its outcome updates the announcement', async () => {
    bot = await startIncidentBot();
    await bot.command('incident declare P1 ML-Analyze returns garbage embeddings', { user_id: DANA });
    const ann = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && !c.body.thread_ts);
    const annTs = String(ann.response.ts);

    await bot.command(`data clear-embeddings --supplier ${SUPPLIER_A}`, { user_id: DANA });
    const plan = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && c.body.thread_ts === annTs && blocksOf(c).includes('rollback_approve'));
    const req = await until(async () => (await bot.runtime.store.getRequest('R-1'))?.messageTs && bot.runtime.store.getRequest('R-1'), 'R-1 stored with its message');
    expect(req).toMatchObject({ incidentId: 'INC-1', messageTs: String(plan.response.ts), threadTs: annTs });
    const listed = await bot.slack.waitFor((c) => c.method === 'chat.update' && c.body.ts === annTs && blocksOf(c).includes('R-1'));
    expect(blocksOf(listed)).toMatch(/R-1 [^"]*awaiting approval/);

    await bot.click('rollback_approve', 'R-1', LEE);
    await bot.slack.waitFor((c) => c.method === 'chat.update' && c.body.ts === annTs && /R-1 [^"]*succeeded/.test(blocksOf(c)), 20_000);
    // The request's progress and outcome live in the incident's thread too.
    const outcome = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && c.body.thread_ts === annTs && blocksOf(c).includes('Health verification checklist'));
    expect(outcome).toBeTruthy();
  });
});

describe('incidents in the console', () => {
  it('declare, update, list and resolve print the template and the timeline', async () => {
    const env = await createTestEnv();
    const out = new PassThrough();
    let printed = '';
    out.on('data', (c: Buffer) => (printed += c.toString()));
    const notifier = new ConsoleNotifier(out);
    const { log } = memoryLogger('warn');
    const rt = await createRuntime(env.config(), log, { notifier: () => notifier, runWorker: false, incidents: { notifier: () => new ConsoleIncidentNotifier(out) } });
    try {
      const input = PassThrough.from(['incident declare P3 the review queue page is slow\n', 'incident update INC-1 --status identified --actions added an index\n', 'incident list\n', 'incident resolve INC-1\n']);
      await runConsole({ service: rt.service, store: rt.store, notifier, input, output: out, user: 'dana' });
      expect(printed).toContain('══ INC-1 declared ══');
      expect(printed).toMatch(/INCIDENT: +ML-Analyze Service \[P3\]/);
      expect(printed).toMatch(/STATUS: +Investigating/);
      expect(printed).toContain('INC-1 declared (P3, response time 4 h)');
      expect(printed).toMatch(/\[INC-1\] 📝 Update by dana: STATUS Investigating → Identified · ACTIONS: added an index/);
      expect(printed).toMatch(/INC-1 {2}P3 {2}Identified/);
      expect(printed).toMatch(/\[INC-1\] ✅ Resolved by dana/);
      expect((await rt.incidents.get('INC-1'))!.status).toBe('resolved');
    } finally {
      await rt.close();
      await env.cleanup();
    }
  });
});
