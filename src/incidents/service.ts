import type { FileConfig } from '../config/file.js';
import { coerceError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Command } from '../rollback/command.js';
import type { Actor, Verdict } from '../requests/policy.js';
import type { Reply } from '../requests/service.js';
import type { Store } from '../store/store.js';
import type { IncidentNotifier, TimelineNote } from './notifier.js';
import type { ReminderScheduler } from './reminders.js';
import { reminderDue, RESPONSE_LABEL } from './responseTime.js';
import { IncidentStore, type IncidentPatch } from './store.js';
import { STATUS_LABEL, type Incident, type IncidentSource, type Severity } from './types.js';

export interface IncidentServiceOptions {
  readonly store: Store;
  readonly notifier: IncidentNotifier;
  readonly reminders: ReminderScheduler;
  readonly config: FileConfig;
  readonly log: Logger;
  readonly now?: () => Date;
  /** Declaring and changing incidents is allowed where procedures are (the policy's channels). */
  readonly channelAllowed?: (actor: Actor) => Verdict;
}

export interface Declaration {
  severity: Severity;
  impact: string;
  by: string;
  channelId: string;
  source: IncidentSource;
  actions?: string;
  detail?: Record<string, unknown>;
}

const ok = (text: string): Reply => ({ text, ok: true });
const refuse = (text: string): Reply => ({ text, ok: false });
const MAX_TEXT = 1000;

/**
 * Incidents, free of Slack: declare, update, resolve, list, remind. Postgres holds the incident
 * and its timeline; the notifier keeps the announcement current and posts each change in its thread.
 */
export class IncidentService {
  readonly istore: IncidentStore;
  readonly now: () => Date;

  constructor(private readonly o: IncidentServiceOptions) {
    this.istore = new IncidentStore(o.store);
    this.now = o.now ?? (() => new Date());
  }

  get config(): FileConfig['incidents'] {
    return this.o.config.incidents;
  }

  /** Where monitoring announces: the configured channel, else the first allowed one. */
  get automatedChannel(): string {
    return this.config.channel ?? this.o.config.channels[0] ?? 'ml-analyze';
  }

  /** The hook RequestService calls for `incident …` commands. */
  async command(cmd: Command, actor: Actor): Promise<Reply> {
    if (cmd.kind === 'incident-list') return this.list();
    const where = this.o.channelAllowed?.(actor);
    if (where && !where.ok) return refuse(`${where.reason}. Nothing changed.`);
    switch (cmd.kind) {
      case 'incident-declare': {
        const inc = await this.declare({ severity: cmd.severity, impact: cmd.impact, by: actor.userId, channelId: actor.channelId, source: 'human' });
        const other = await this.otherOpen(inc.id);
        return ok(`${inc.id} declared (${inc.severity}, response time ${RESPONSE_LABEL[inc.severity]}).${other ? ` Note: ${other} is also open.` : ''}`);
      }
      case 'incident-update': {
        const patch: IncidentPatch = { status: cmd.status, eta: cmd.eta, actions: cmd.actions, impact: cmd.impact };
        return (await this.update(cmd.incidentId, patch, actor.userId)).reply;
      }
      case 'incident-resolve':
        return (await this.resolve(cmd.incidentId, actor.userId)).reply;
      default:
        return refuse('not an incident command');
    }
  }

  async openIncident(): Promise<{ id: string; severity: Severity } | null> {
    const inc = await this.istore.open();
    return inc ? { id: inc.id, severity: inc.severity } : null;
  }

  get(id: string): Promise<Incident | null> {
    return this.istore.get(id);
  }

  async declare(d: Declaration): Promise<Incident> {
    const inc = await this.istore.tx(async (c) => {
      const created = await this.istore.create(c, { ...d, declaredBy: d.by, now: this.now() });
      await this.record(created, d.by, 'declared', `declared ${d.severity}: ${d.impact}`, { source: d.source, ...d.detail }, c);
      return created;
    });
    await this.announced(inc);
    return inc;
  }

  /** Posts a freshly created incident (the caller created it in its own transaction) and starts its reminders. */
  async announced(inc: Incident): Promise<Incident> {
    const ref = await this.o.notifier.announce({ incident: inc, requests: [] });
    if (ref) {
      await this.istore.setMessage(inc.id, ref.channelId, ref.ts);
      inc.channelId = ref.channelId;
      inc.messageTs = ref.ts;
    }
    await this.scheduleReminder(inc, inc.lastUpdateAt);
    return inc;
  }

  /** Checks a change before anything is applied; returns the error by field (the modal shows it under the input). */
  validate(patch: IncidentPatch): Partial<Record<keyof IncidentPatch, string>> {
    const errors: Partial<Record<keyof IncidentPatch, string>> = {};
    for (const k of ['eta', 'actions', 'impact'] as const) {
      const v = patch[k];
      if (v !== undefined && v.length > MAX_TEXT) errors[k] = `at most ${MAX_TEXT} characters (this is ${v.length})`;
    }
    if (patch.impact !== undefined && !patch.impact.trim()) errors.impact = 'impact cannot be empty: who is affected and how';
    return errors;
  }

  async update(id: string, patch: IncidentPatch, by: string): Promise<{ reply: Reply; incident?: Incident }> {
    if (patch.status === 'resolved') {
      const rest: IncidentPatch = { ...patch, status: undefined };
      if (Object.values(rest).some((v) => v !== undefined)) await this.update(id, rest, by);
      return this.resolve(id, by);
    }
    const errors = Object.entries(this.validate(patch));
    if (errors.length) return { reply: refuse(errors.map(([k, v]) => `--${k}: ${v}`).join('; ')) };
    const before = await this.istore.get(id);
    if (!before) return { reply: refuse(`no incident ${id}`) };
    if (before.status === 'resolved') return { reply: refuse(`${id} is resolved; declare a new incident if it is back`) };
    const changes = describeChanges(before, patch);
    const inc = await this.istore.tx(async (c) => {
      const next = await this.istore.patch(c, id, patch, this.now(), by);
      if (next) await this.record(next, by, 'updated', changes.join('; ') || 'update (no change)', { ...patch }, c);
      return next;
    });
    if (!inc) return { reply: refuse(`${id} was resolved meanwhile; nothing changed`) };
    await this.refresh(inc.id, inc);
    await this.o.notifier.timeline(inc, { text: `📝 *Update* by ${mention(by)}: ${changes.join(' · ') || 'no change (response clock reset)'}` });
    await this.scheduleReminder(inc, inc.lastUpdateAt);
    return { reply: ok(`${id} updated${changes.length ? `: ${changes.join('; ')}` : ''}`), incident: inc };
  }

  async resolve(id: string, by: string): Promise<{ reply: Reply; incident?: Incident }> {
    const before = await this.istore.get(id);
    if (!before) return { reply: refuse(`no incident ${id}`) };
    const inc = await this.istore.tx(async (c) => {
      const next = await this.istore.patch(c, id, { status: 'resolved' }, this.now(), by);
      if (next) await this.record(next, by, 'resolved', `resolved by ${by}`, {}, c);
      return next;
    });
    if (!inc) return { reply: refuse(`${id} is already resolved; nothing changed`) };
    if (inc.reminderJob) {
      await this.o.reminders.cancel(inc.reminderJob).catch((err: unknown) => this.o.log.warn({ incidentId: id, err: coerceError(err).message }, 'could not remove the reminder; it will find the incident resolved'));
      await this.istore.swapReminderJob(id, inc.reminderJob, null);
    }
    const minutes = Math.round((inc.resolvedAt!.getTime() - new Date(inc.startedAt).getTime()) / 60_000);
    await this.refresh(inc.id, inc);
    await this.o.notifier.timeline(inc, { text: `✅ *Resolved* by ${mention(by)} after ${minutes} min.`, broadcast: true });
    return { reply: ok(`${id} resolved after ${minutes} min`), incident: inc };
  }

  async list(): Promise<Reply> {
    const rows = await this.istore.list(10);
    if (!rows.length) return ok('no incidents');
    return ok(
      rows
        .map((i) => `${i.id}  ${i.severity}  ${STATUS_LABEL[i.status]}  since ${new Date(i.startedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC  — ${i.impact.slice(0, 120)}`)
        .join('\n'),
    );
  }

  /** Re-renders the announcement (after a change, or when a request of the incident moved). */
  async refresh(id: string, known?: Incident): Promise<void> {
    const incident = known ?? (await this.istore.get(id));
    if (!incident) return;
    await this.o.notifier.refresh({ incident, requests: await this.istore.linkedRequests(id) });
  }

  /** A timeline entry from the system (monitoring, alerts, requests): recorded, then posted in the thread. */
  async note(inc: Incident, actor: string, kind: string, note: TimelineNote, detail: Record<string, unknown> = {}): Promise<void> {
    await this.record(inc, actor, kind, note.text, detail);
    await this.o.notifier.timeline(inc, note);
  }

  /**
   * The reminder job. Does nothing for a stale job (the incident was updated or resolved since);
   * otherwise posts in the thread and schedules the next one, a response time later.
   */
  async remind(incidentId: string, jobId: string, now = this.now()): Promise<'reminded' | 'stale' | 'rescheduled'> {
    const inc = await this.istore.get(incidentId);
    if (!inc || inc.status === 'resolved' || inc.reminderJob !== jobId) return 'stale';
    const due = reminderDue(inc.severity, new Date(inc.lastUpdateAt), this.config);
    if (due.getTime() > now.getTime() + 1000) {
      await this.scheduleReminder(inc, new Date(inc.lastUpdateAt));
      return 'rescheduled';
    }
    const claimed = await this.istore.claimReminder(incidentId, jobId);
    if (!claimed) return 'stale';
    const quiet = Math.max(1, Math.round((now.getTime() - new Date(inc.lastUpdateAt).getTime()) / 60_000));
    await this.note(claimed, 'system', 'reminder', {
      text: `⏰ *Reminder:* ${inc.id} (${inc.severity}) has had no update for ${quiet} min; its response time is ${RESPONSE_LABEL[inc.severity]}. Post an update (*Update* above, or \`/ml-rollback incident update ${inc.id} --status identified --eta …\`) or resolve it.`,
    }, { reminder: claimed.reminders });
    await this.scheduleReminder(claimed, now);
    return 'reminded';
  }

  private async scheduleReminder(inc: Incident, from: Date): Promise<void> {
    if (inc.status === 'resolved') return;
    try {
      const current = (await this.istore.get(inc.id))?.reminderJob ?? null;
      const jobId = await this.o.reminders.schedule(inc.id, reminderDue(inc.severity, from, this.config));
      if (jobId === current) return;
      if (await this.istore.swapReminderJob(inc.id, current, jobId)) {
        if (current) await this.o.reminders.cancel(current);
      } else {
        await this.o.reminders.cancel(jobId);
      }
    } catch (err) {
      this.o.log.warn({ incidentId: inc.id, err: coerceError(err).message }, 'could not schedule the incident reminder');
    }
  }

  private async otherOpen(except: string): Promise<string | undefined> {
    const rows = await this.istore.list(10);
    return rows.find((i) => i.status !== 'resolved' && i.id !== except)?.id;
  }

  private async record(inc: Incident, actor: string, kind: string, text: string, detail: Record<string, unknown>, c?: Parameters<IncidentStore['event']>[1]): Promise<void> {
    await this.istore.event({ incidentId: inc.id, actor, kind, text, detail }, c);
    await this.o.store.audit({ incidentId: inc.id, actor, action: `incident-${kind}`, detail: { text: text.slice(0, 300), ...detail } }, c);
  }
}

function describeChanges(before: Incident, p: IncidentPatch): string[] {
  const out: string[] = [];
  if (p.status && p.status !== before.status) out.push(`STATUS ${STATUS_LABEL[before.status]} → ${STATUS_LABEL[p.status]}`);
  if (p.impact !== undefined && p.impact !== before.impact) out.push(`IMPACT: ${p.impact}`);
  if (p.eta !== undefined && p.eta !== before.eta) out.push(`ETA: ${p.eta}`);
  if (p.actions !== undefined && p.actions !== before.actions) out.push(`ACTIONS: ${p.actions}`);
  if (p.severity && p.severity !== before.severity) out.push(`severity ${before.severity} → ${p.severity}`);
  return out;
}

const mention = (id: string) => (/^[UW][A-Z0-9]{2,}$/.test(id) ? `<@${id}>` : id);
