import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { connectionFromUrl } from '../../src/jobs/queue.js';
import { REMINDER_QUEUE } from '../../src/jobs/reminders.js';
import { parseFileConfig } from '../../src/config/file.js';
import { reminderDue } from '../../src/incidents/responseTime.js';
import { slackIncidents } from '../../src/bot/incidentWiring.js';
import { createWebClient } from '../../src/bot/slackClient.js';
import { SlackNotifier } from '../../src/bot/slackNotifier.js';
import { createRuntime } from '../../src/runtime.js';
import { memoryLogger } from '../support/env.js';
import { startIncidentBot, until, type IncidentBot } from './support.js';

const cfg = (incidents: object = {}) => parseFileConfig({ incidents }).incidents;
const queues: Queue[] = [];
/** The reminder queue as another process would see it (same Redis, same prefix). */
function openQueue(bot: IncidentBot): Queue {
  const q = new Queue(REMINDER_QUEUE, { connection: connectionFromUrl(bot.env.redisUrl), prefix: bot.env.queuePrefix });
  queues.push(q);
  return q;
}

describe('response times (runbook: P1 15 min, P2 1 h, P3 4 h, P4 next business day)', () => {
  const at = new Date('2026-12-02T10:00:00Z'); // a Wednesday
  it('P1–P3 are fixed durations, overridable', () => {
    expect(reminderDue('P1', at, cfg()).toISOString()).toBe('2026-12-02T10:15:00.000Z');
    expect(reminderDue('P2', at, cfg()).toISOString()).toBe('2026-12-02T11:00:00.000Z');
    expect(reminderDue('P3', at, cfg()).toISOString()).toBe('2026-12-02T14:00:00.000Z');
    expect(reminderDue('P2', at, cfg({ responseSeconds: { P2: 5 } })).toISOString()).toBe('2026-12-02T10:00:05.000Z');
  });
  it('P4 is the opening of the next business day in the configured zone', () => {
    expect(reminderDue('P4', at, cfg()).toISOString()).toBe('2026-12-03T09:00:00.000Z');
    // Friday evening in Berlin (CET, UTC+1) → Monday 09:00 Berlin.
    const friday = new Date('2026-12-04T17:00:00Z');
    expect(reminderDue('P4', friday, cfg({ businessHours: { timeZone: 'Europe/Berlin' } })).toISOString()).toBe('2026-12-07T08:00:00.000Z');
    // Summer time (CEST, UTC+2), and a custom week and opening hour.
    const summer = new Date('2026-07-03T20:00:00Z'); // Friday
    expect(reminderDue('P4', summer, cfg({ businessHours: { timeZone: 'Europe/Berlin', start: '08:30', days: [1, 2, 3, 4, 5, 6] } })).toISOString()).toBe('2026-07-04T06:30:00.000Z');
    // Late Thursday UTC is already Friday in Tokyo: the next business day there is Monday.
    expect(reminderDue('P4', new Date('2026-12-03T20:00:00Z'), cfg({ businessHours: { timeZone: 'Asia/Tokyo' } })).toISOString()).toBe('2026-12-07T00:00:00.000Z');
  });
});

describe('reminders in the incident thread (BullMQ delayed jobs)', () => {
  let bot: IncidentBot;
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.close()));
    await bot.close();
  });

  const reminders = (b: IncidentBot, ts: string) => b.slack.calls.filter((c) => c.method === 'chat.postMessage' && c.body.thread_ts === ts && String(c.body.text).includes('Reminder'));
  const delayed = async (b: IncidentBot) => (await b.runtime.incidents.istore.get('INC-1'))?.reminderJob;

  it('with a 1 s response time: reminds, repeats until resolved, and stops at resolve', async () => {
    bot = await startIncidentBot({ file: { incidents: { responseSeconds: { P2: 1 } } } });
    await bot.command('incident declare P2 slow matching', { user_id: 'U0FAKEUS1' });
    const ann = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && !c.body.thread_ts);
    const ts = String(ann.response.ts);
    const first = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && c.body.thread_ts === ts && String(c.body.text).includes('Reminder'), 10_000);
    expect(String(first.body.text)).toContain('INC-1 (P2) has had no update');
    await bot.slack.waitFor(() => reminders(bot, ts).length >= 2, 10_000);
    expect((await bot.runtime.incidents.get('INC-1'))!.reminders).toBeGreaterThanOrEqual(2);

    await bot.runtime.incidents.resolve('INC-1', 'U0FAKEUS1');
    const after = reminders(bot, ts).length;
    expect(await delayed(bot)).toBeNull();
    const queue = openQueue(bot);
    await until(async () => (await queue.getJobs(['delayed', 'waiting', 'active'])).length === 0, 'no reminder jobs left');
    // Even a reminder job that was already due finds the incident resolved and posts nothing.
    expect(await bot.runtime.incidents.remind('INC-1', 'remind-INC-1-1', new Date(Date.now() + 3_600_000))).toBe('stale');
    expect(reminders(bot, ts).length).toBe(after);
  });

  it('a reminder scheduled by one process is delivered by another (delayed jobs live in Redis, not in memory)', async () => {
    // This bot runs no workers: nothing in this process can deliver the reminder.
    bot = await startIncidentBot({ worker: false, file: { incidents: { responseSeconds: { P3: 1 } } } });
    await bot.command('incident declare P3 the review page is slow', { user_id: 'U0FAKEUS1' });
    const ann = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && !c.body.thread_ts);
    await until(() => delayed(bot), 'a reminder job');
    // "After the restart": a fresh worker process on the same Redis and Postgres.
    const { log } = memoryLogger('warn');
    const client = createWebClient(bot.config.slack.botToken!, bot.config.slack.apiUrl);
    const restarted = await createRuntime(bot.config, log, { notifier: (store) => new SlackNotifier(client, store, log), runWorker: true, incidents: slackIncidents(client, log, false) });
    try {
      const note = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && c.body.thread_ts === ann.response.ts && String(c.body.text).includes('Reminder'), 10_000);
      expect(String(note.body.text)).toContain('INC-1 (P3)');
    } finally {
      await restarted.close();
    }
  });

  it('P1 with the runbook\'s 15 min (fake clock): due job in Redis, reminder when it fires, each update pushes it forward', async () => {
    let now = new Date('2026-12-02T10:00:00Z');
    bot = await startIncidentBot({ now: () => now, worker: false });
    await bot.command('incident declare P1 ML-Analyze is down', { user_id: 'U0FAKEUS1' });
    const ann = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && !c.body.thread_ts);
    const ts = String(ann.response.ts);
    const job1 = await until(() => delayed(bot), 'a reminder job');
    expect(job1).toBe(`remind-INC-1-${Date.parse('2026-12-02T10:15:00Z')}`);
    const queue = openQueue(bot);
    const job = (await queue.getJob(job1))!;
    expect(await job.getState()).toBe('delayed');
    expect(job.opts.delay).toBe(15 * 60_000);

    // Too early (an update moved the due time): nothing posted. At 10:16 with no update: a reminder.
    now = new Date('2026-12-02T10:16:00Z');
    expect(await bot.runtime.incidents.remind('INC-1', job1)).toBe('reminded');
    const posted = reminders(bot, ts);
    expect(posted).toHaveLength(1);
    expect(String(posted[0]!.body.text)).toContain('no update for 16 min; its response time is 15 min');
    const job2 = await delayed(bot);
    expect(job2).toBe(`remind-INC-1-${Date.parse('2026-12-02T10:31:00Z')}`);
    // The job that already ran is stale now.
    expect(await bot.runtime.incidents.remind('INC-1', job1)).toBe('stale');

    // An update at 10:20 pushes the next reminder to 10:35 and removes the 10:31 one.
    now = new Date('2026-12-02T10:20:00Z');
    await bot.command('incident update INC-1 --status identified', { user_id: 'U0FAKEUS1' });
    const job3 = await until(async () => ((await delayed(bot)) !== job2 ? delayed(bot) : undefined), 'the reminder pushed forward');
    expect(job3).toBe(`remind-INC-1-${Date.parse('2026-12-02T10:35:00Z')}`);
    // The new job is added before the old one is removed: wait for the removal, not a moment.
    await until(async () => ((await queue.getJob(job2!)) === undefined ? true : undefined), 'the 10:31 reminder removed');
    expect(await bot.runtime.incidents.remind('INC-1', job2!)).toBe('stale');
    expect(reminders(bot, ts)).toHaveLength(1);
  });
});

describe('incident configuration', () => {
  it('refuses an unknown business-hours time zone with a message naming the setting', () => {
    expect(() => parseFileConfig({ incidents: { businessHours: { timeZone: 'Mars/Olympus' } } })).toThrow(/incidents\.businessHours\.timeZone: unknown time zone/);
  });
});
