import { AppError, coerceError, ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { parseCommand, USAGE, type Command, type ParseOptions, type ProcedureName } from '../rollback/command.js';
import { TargetLock } from '../jobs/lock.js';
import { redact } from '../redact.js';
import { planHash } from '../rollback/hash.js';
import { planProcedure } from '../rollback/procedures/index.js';
import type { Deps, Plan } from '../rollback/types.js';
import { FINAL_STATES, type RequestRow, type Store } from '../store/store.js';
import { describeState, outcomeLine, statusText, STATE_LABEL } from './format.js';
import type { Notifier } from './notifier.js';
import type { Actor, Policy } from './policy.js';

export interface Reply {
  /** Shown only to the person who asked (ephemeral in Slack). */
  readonly text: string;
  readonly requestId?: string;
  readonly ok: boolean;
}

export interface Enqueuer {
  enqueue(requestId: string, runNo: number): Promise<void>;
}

export type ButtonAction = 'approve' | 'reject' | 'cancel' | 'retry' | 'abort' | 'skip';

export interface ServiceOptions {
  readonly store: Store;
  readonly deps: Deps;
  readonly queue: Enqueuer;
  readonly notifier: Notifier;
  readonly policy: Policy;
  readonly log: Logger;
  readonly parse?: ParseOptions;
  /** Extra command words handled elsewhere (incidents). */
  readonly incidents?: (cmd: Command, actor: Actor) => Promise<Reply>;
  /** The incident open right now, if any: requests made meanwhile belong to it. */
  readonly openIncident?: () => Promise<{ id: string; severity: 'P1' | 'P2' | 'P3' | 'P4' } | null>;
}

/** Abort keeps the state `failed` (the states are a contract) and marks the error, so the end is final. */
const isAborted = (req: RequestRow): boolean => Boolean((req.error as { aborted?: boolean } | null)?.aborted);
const REQUEST_ROW_ID = /^R-[1-9][0-9]{0,9}$/;
const reply = (text: string, requestId?: string): Reply => ({ text, ok: true, ...(requestId ? { requestId } : {}) });
const refuse = (text: string): Reply => ({ text, ok: false });

/**
 * The request lifecycle, free of Slack: parse → policy → plan → store → post; and the buttons.
 * Every state change is a conditional update in Postgres, so double clicks and racing approvers
 * change things once.
 */
export class RequestService {
  constructor(private readonly o: ServiceOptions) {}

  /** Parses only: cheap and synchronous, so a chat edge can answer bad input inside its ack. */
  parse(text: string): { ok: true; command: Command } | { ok: false; reply: Reply } {
    try {
      return { ok: true, command: parseCommand(text, this.o.parse) };
    } catch (err) {
      // Every refusal of input carries a usage line, even those the grammar words without one.
      const e = coerceError(err);
      const usage = typeof e.details.usage === 'string' ? e.details.usage : USAGE.help;
      const message = redact(e.message);
      return { ok: false, reply: refuse(message.includes('Usage:') ? message : `${message}\nUsage: /ml-rollback ${usage}`) };
    }
  }

  async handle(text: string, actor: Actor): Promise<Reply> {
    const parsed = this.parse(text);
    if (!parsed.ok) {
      await this.recordRefusedInput(text, actor, parsed.reply);
      return parsed.reply;
    }
    return this.execute(parsed.command, actor, text);
  }

  /** Bad input changes nothing but is remembered: who tried what, and why it was refused. */
  async recordRefusedInput(text: string, actor: Actor, r: Reply): Promise<void> {
    await this.o.store
      .audit({ actor: actor.userId, action: 'refused-input', detail: { text: text.slice(0, 300), reason: r.text, channel: actor.channelId } })
      .catch((err: unknown) => this.o.log.warn({ err: coerceError(err).message }, 'could not audit refused input'));
  }

  async execute(cmd: Command, actor: Actor, text: string): Promise<Reply> {
    try {
      switch (cmd.kind) {
        case 'help':
          return reply(helpText(cmd.topic));
        case 'status':
          return await this.status(cmd.requestId);
        case 'history':
          return await this.history(cmd.limit, cmd.json);
        case 'procedure':
          return await this.request(cmd, actor, text);
        case 'unlock':
          return await this.unlock(cmd.reason, actor);
        default:
          if (this.o.incidents) return await this.o.incidents(cmd, actor);
          return refuse('incidents are not enabled in this installation');
      }
    } catch (err) {
      const e = coerceError(err);
      if (e.code === ErrorCode.Internal || e.code === ErrorCode.Transient) this.o.log.error({ err: e.message, code: e.code }, 'command failed');
      return refuse(e.code === ErrorCode.Internal ? `something went wrong: ${e.message}. Nothing was run.` : `${e.message}\nNothing was run.`);
    }
  }

  private async request(cmd: Extract<Command, { kind: 'procedure' }>, actor: Actor, text: string): Promise<Reply> {
    const { store, policy } = this.o;
    const channel = policy.channelAllowed(actor);
    if (!channel.ok) {
      await store.audit({ actor: actor.userId, action: 'refused', detail: { reason: 'channel', channel: actor.channelId, text: text.slice(0, 300) } });
      return refuse(`${channel.reason}. Nothing was run.`);
    }
    const may = await policy.mayRequest(actor.userId, cmd.procedure);
    if (!may.ok) {
      await store.audit({ actor: actor.userId, action: 'refused', detail: { reason: may.reason, text: text.slice(0, 300) } });
      return refuse(`${may.reason}. Nothing was run.`);
    }
    if (cmd.emergency !== undefined && !cmd.dryRun) {
      const open = await this.openIncident();
      const claim = policy.mayClaimEmergency(cmd.procedure, open?.severity);
      if (!claim.ok) {
        await store.audit({ actor: actor.userId, action: 'refused', detail: { reason: claim.reason, emergency: cmd.emergency, incident: open?.id ?? null, text: text.slice(0, 300) } });
        return refuse(`${claim.reason}. Nothing was run.`);
      }
    }
    const plan = await planProcedure(this.o.deps, cmd.procedure, cmd.args);
    return this.store(plan, cmd.procedure, actor, text, cmd.dryRun, cmd.emergency);
  }

  private async store(plan: Plan, procedure: ProcedureName, actor: Actor, text: string, dryRun: boolean, emergency?: string): Promise<Reply> {
    const { store, policy, notifier } = this.o;
    const hash = planHash(plan);
    const readOnly = plan.risk === 'read-only';
    const incident = this.o.openIncident ? await this.o.openIncident() : null;
    const state = dryRun ? 'dry_run' : readOnly ? 'approved' : 'awaiting_approval';
    let req = await store.createRequest({
      procedure,
      command: redact(text.slice(0, 500)),
      args: plan.args,
      plan,
      planHash: hash,
      state,
      requester: actor.userId,
      channelId: actor.channelId,
      channelName: actor.channelName,
      approvalsNeeded: policy.approvalsNeeded(procedure),
      expiresAt: state === 'awaiting_approval' ? new Date(this.o.deps.now().getTime() + policy.expiryMinutes * 60_000) : null,
      emergencyReason: emergency === undefined ? undefined : redact(emergency),
      incidentId: incident?.id,
    });
    await store.audit({ requestId: req.id, actor: actor.userId, action: dryRun ? 'dry-run' : 'requested', detail: { procedure, hash, risk: plan.risk, command: text.slice(0, 300), emergency } });
    if (readOnly && !dryRun) {
      req = (await store.transition(req.id, ['approved'], 'approved', { approved_hash: hash, run_no: 1 })) ?? req;
      await store.audit({ requestId: req.id, actor: 'system', action: 'approved', detail: { reason: 'read-only plan: no approval needed' } });
    }
    const ref = await notifier.planned(req);
    if (ref) await store.setMessage(req.id, { channelId: ref.channelId, messageTs: ref.ts, threadTs: ref.threadTs ?? ref.ts });
    if (readOnly && !dryRun) await this.enqueue(req.id, 1);
    const what = dryRun ? 'dry run: plan only, nothing will run' : readOnly ? 'read-only: running now' : `waiting for approval (expires in ${policy.expiryMinutes} min)`;
    return reply(`${req.id} planned (${what}).`, req.id);
  }

  private async enqueue(requestId: string, runNo: number): Promise<void> {
    try {
      await this.o.queue.enqueue(requestId, runNo);
    } catch (err) {
      // Postgres already says "approved": the maintenance sweep puts it on the queue when Redis is back.
      this.o.log.error({ requestId, err: coerceError(err).message }, 'enqueue failed; the recovery sweep will retry');
    }
  }

  private async openIncident(): Promise<{ id: string; severity: string } | null> {
    return this.o.openIncident ? this.o.openIncident() : null;
  }

  /** Every press is answered after checking the state; a refused one (stale, forged, not allowed) is audited too. */
  async act(action: ButtonAction, requestId: string, userId: string, opts: { fromStep?: number } = {}): Promise<Reply> {
    const out = await this.press(action, requestId, userId, opts);
    if (!out.ok) {
      await this.o.store
        .audit({ requestId: REQUEST_ROW_ID.test(requestId) ? requestId : null, actor: userId, action: 'button-refused', detail: { button: action, reason: out.text.slice(0, 300), ...opts } })
        .catch((err: unknown) => this.o.log.warn({ err: coerceError(err).message }, 'could not audit a refused button'));
    }
    return out;
  }

  private async press(action: ButtonAction, requestId: string, userId: string, opts: { fromStep?: number }): Promise<Reply> {
    try {
      switch (action) {
        case 'approve':
          return await this.approve(requestId, userId);
        case 'reject':
          return await this.reject(requestId, userId);
        case 'cancel':
          return await this.cancel(requestId, userId);
        case 'retry':
          return await this.retry(requestId, userId, opts.fromStep);
        case 'abort':
          return await this.abort(requestId, userId);
        case 'skip':
          return await this.skip(requestId, userId, opts.fromStep);
      }
    } catch (err) {
      const e = coerceError(err);
      this.o.log.error({ requestId, action, err: e.message }, 'button failed');
      return refuse(`could not ${action} ${requestId}: ${e.message}`);
    }
  }

  private async approve(id: string, userId: string): Promise<Reply> {
    const { store, policy, notifier } = this.o;
    type R = { reply: Reply; approved?: RequestRow; recorded?: { req: RequestRow; remaining: number }; expired?: RequestRow; emergency?: boolean };
    const out = await store.tx<R>(async (c) => {
      const req = await store.lockRequest(c, id);
      if (!req) return { reply: refuse(`no request ${id}`) };
      if (req.state !== 'awaiting_approval') return { reply: refuse(`${describeState(id, req.state)}; nothing changed`) };
      if (req.expiresAt && new Date(req.expiresAt) <= this.o.deps.now()) {
        const expired = await store.transition(id, ['awaiting_approval'], 'expired', {}, c);
        await store.audit({ requestId: id, actor: 'system', action: 'expired' }, c);
        return { reply: refuse(`${id} expired at ${new Date(req.expiresAt).toISOString()}; request it again for a fresh plan`), ...(expired ? { expired } : {}) };
      }
      const incident = req.emergencyReason && userId === req.requester ? await this.openIncident() : null;
      const verdict = await policy.mayApprove(userId, {
        procedure: req.procedure, requester: req.requester, risk: req.plan.risk, emergencyReason: req.emergencyReason, openIncidentSeverity: incident?.severity,
      });
      if (!verdict.ok) {
        await store.audit({ requestId: id, actor: userId, action: 'approval-refused', detail: { reason: verdict.reason } }, c);
        return { reply: refuse(`${verdict.reason}. ${id} is still waiting for approval.`) };
      }
      const fresh = await store.addDecision(c, id, userId, 'approve', verdict.emergency ?? false);
      if (!fresh) return { reply: refuse(`you already approved ${id}; nothing changed`) };
      await store.audit(
        { requestId: id, actor: userId, action: verdict.emergency ? 'emergency-self-approved' : 'approved', detail: { hash: req.planHash, emergency: req.emergencyReason, ...(verdict.emergency ? { incident: incident?.id, severity: incident?.severity } : {}) } },
        c,
      );
      const approvals = (await store.decisions(id, c)).filter((d) => d.decision === 'approve').length;
      // Break-glass: nobody else is there to approve, so an allowed emergency self-approval is the whole approval.
      if (approvals < req.approvalsNeeded && !verdict.emergency) {
        return { reply: reply(`approval recorded; ${id} needs ${req.approvalsNeeded - approvals} more`), recorded: { req, remaining: req.approvalsNeeded - approvals } };
      }
      const approved = await store.transition(id, ['awaiting_approval'], 'approved', { approved_hash: req.planHash, run_no: 1 }, c);
      if (!approved) return { reply: refuse(`${id} changed meanwhile; nothing changed`) };
      return { reply: reply(`${id} approved; running it now`, id), approved, ...(verdict.emergency ? { emergency: true } : {}) };
    });
    if (out.expired) await notifier.decided(out.expired, { kind: 'expired' });
    if (out.recorded) await notifier.decided(out.recorded.req, { kind: 'approval-recorded', by: userId, remaining: out.recorded.remaining });
    if (out.approved) {
      await this.enqueue(id, out.approved.runNo);
      await notifier.decided(out.approved, { kind: 'approved', by: userId, ...(out.emergency && out.approved.emergencyReason ? { emergency: out.approved.emergencyReason } : {}) });
    }
    return out.reply;
  }

  private async reject(id: string, userId: string): Promise<Reply> {
    const { store, notifier } = this.o;
    const req = await store.getRequest(id);
    if (!req) return refuse(`no request ${id}`);
    if (req.requester === userId) return refuse(`you requested ${id}; use Cancel to withdraw it`);
    const rejected = await store.tx(async (c) => {
      const r = await store.transition(id, ['awaiting_approval'], 'rejected', { finished_at: new Date() }, c);
      if (r) {
        await store.addDecision(c, id, userId, 'reject');
        await store.audit({ requestId: id, actor: userId, action: 'rejected' }, c);
      }
      return r;
    });
    if (!rejected) return refuse(`${describeState(id, req.state)}; nothing changed`);
    await notifier.decided(rejected, { kind: 'rejected', by: userId });
    return reply(`${id} rejected`);
  }

  private async cancel(id: string, userId: string): Promise<Reply> {
    const { store, notifier } = this.o;
    const req = await store.getRequest(id);
    if (!req) return refuse(`no request ${id}`);
    const cancelled = await store.transition(id, ['awaiting_approval', 'approved'], 'cancelled', { finished_at: new Date() });
    if (cancelled) {
      await store.audit({ requestId: id, actor: userId, action: 'cancelled', detail: { from: req.state } });
      await notifier.decided(cancelled, { kind: 'cancelled', by: userId });
      return reply(`${id} cancelled; nothing ran`);
    }
    const running = await store.requestCancel(id);
    if (running) {
      await store.audit({ requestId: id, actor: userId, action: 'cancel-requested' });
      await notifier.decided(running, { kind: 'cancel-requested', by: userId });
      return reply(`${id}: stopping — the running step is being ended; steps after it will not run`);
    }
    const now = await store.getRequest(id);
    return refuse(`${now ? describeState(id, now.state) : `${id} is gone`}; nothing to cancel`);
  }

  private async retry(id: string, userId: string, fromStep: number | undefined): Promise<Reply> {
    const { store, policy, notifier } = this.o;
    const req = await store.getRequest(id);
    if (!req) return refuse(`no request ${id}`);
    if (req.state !== 'failed' && req.state !== 'interrupted') return refuse(`${describeState(id, req.state)}; only a failed or interrupted run can be retried`);
    if (isAborted(req)) return refuse(`${id} was aborted; nothing more will run. Request it again for a fresh plan`);
    if (userId !== req.requester) {
      const v = await policy.mayApprove(userId, { procedure: req.procedure, requester: req.requester, risk: req.plan.risk, emergencyReason: req.emergencyReason });
      if (!v.ok) return refuse(`${v.reason}. Nothing changed.`);
    }
    const from = fromStep ?? req.error?.step ?? 0;
    if (!Number.isInteger(from) || from < 0 || from >= req.plan.steps.length) return refuse(`step ${from + 1} is not a step of ${id}`);
    if (req.error?.code === ErrorCode.PlanChanged) {
      return refuse(`${id} stopped because the world changed since it was planned (${req.error.message}); request it again for a fresh plan. Nothing changed.`);
    }
    // Resuming past a step that never completed would run later steps on a wrong premise.
    const latest = await store.latestSteps(id);
    const missing = req.plan.steps.findIndex((_, i) => i < from && !['succeeded', 'skipped'].includes(latest.get(i)?.state ?? ''));
    if (missing !== -1) return refuse(`step ${missing + 1} of ${id} has not completed; retry from step ${missing + 1} (or skip it). Nothing changed.`);
    const next = await store.transition(id, [req.state], 'approved', { run_no: req.runNo + 1, resume_from: from, error: null, finished_at: null, cancel_requested: false });
    if (!next) return refuse(`${id} changed meanwhile; nothing changed`);
    await store.audit({ requestId: id, actor: userId, action: 'retry', detail: { fromStep: from + 1, runNo: next.runNo } });
    await this.enqueue(id, next.runNo);
    await notifier.decided(next, { kind: 'retry', by: userId, fromStep: from });
    return reply(`${id}: retrying from step ${from + 1}`, id);
  }

  /**
   * Skip the failed or interrupted step N and resume from the next one: for when a person has
   * checked that the step's work is done (or not needed). The skip is a step run of its own.
   */
  private async skip(id: string, userId: string, stepIndex: number | undefined): Promise<Reply> {
    const { store, policy, notifier } = this.o;
    const req = await store.getRequest(id);
    if (!req) return refuse(`no request ${id}`);
    if (req.state !== 'failed' && req.state !== 'interrupted') return refuse(`${describeState(id, req.state)}; only a failed or interrupted run has a step to skip`);
    if (isAborted(req)) return refuse(`${id} was aborted; nothing more will run. Request it again for a fresh plan`);
    const step = stepIndex ?? req.error?.step;
    if (step === undefined || step !== req.error?.step) return refuse(`step ${(step ?? -1) + 1} is not the step ${id} stopped at; nothing changed`);
    if (userId !== req.requester) {
      const v = await policy.mayApprove(userId, { procedure: req.procedure, requester: req.requester, risk: req.plan.risk, emergencyReason: req.emergencyReason });
      if (!v.ok) return refuse(`${v.reason}. Nothing changed.`);
    }
    const next = await store.tx(async (c) => {
      const moved = await store.transition(id, [req.state], 'approved', { run_no: req.runNo + 1, resume_from: step + 1, error: null, finished_at: null, cancel_requested: false }, c);
      if (!moved) return null;
      // In the same transaction as the state change: a worker that sees "approved" also sees the skip.
      await c.query(
        `INSERT INTO ${store.schema}.step_runs (request_id, run_no, step_index, step_id, attempt, state, worker, finished_at, summary)
         SELECT $1, $2, $3, $4, COALESCE(MAX(attempt), 0) + 1, 'skipped', $5, now(), $6 FROM ${store.schema}.step_runs WHERE request_id = $1 AND step_index = $3`,
        [id, moved.runNo, step, req.plan.steps[step]?.id ?? `step-${step + 1}`, userId, `skipped by ${userId}`],
      );
      await store.audit({ requestId: id, actor: userId, action: 'step-skipped', detail: { step: step + 1, stepId: req.plan.steps[step]?.id, runNo: moved.runNo } }, c);
      return moved;
    });
    if (!next) return refuse(`${id} changed meanwhile; nothing changed`);
    await this.enqueue(id, next.runNo);
    await notifier.decided(next, { kind: 'skipped', by: userId, step });
    return reply(`${id}: skipped step ${step + 1}; resuming from step ${step + 2}`, id);
  }

  /** "Plan again" on an expired request: the same command, planned afresh for whoever clicked. */
  async replan(id: string, userId: string): Promise<Reply> {
    const { store } = this.o;
    const req = await store.getRequest(id);
    let out: Reply;
    if (!req) out = refuse(`no request ${id}`);
    else if (req.state !== 'expired' && !(req.state === 'failed' && req.error?.code === ErrorCode.PlanChanged && !isAborted(req))) {
      out = refuse(`${describeState(id, req.state)}; only an expired request, or one stopped because the world changed, is planned again`);
    }
    else {
      await store.audit({ requestId: id, actor: userId, action: 'replan', detail: { command: req.command } });
      out = await this.handle(req.command, { userId, channelId: req.channelId, channelName: req.channelName ?? undefined });
    }
    if (!out.ok) await store.audit({ requestId: req ? id : null, actor: userId, action: 'button-refused', detail: { button: 'replan', reason: out.text.slice(0, 300) } });
    return out;
  }

  /** Break-glass release of the target lock: ends the database session that holds it. */
  private async unlock(reason: string, actor: Actor): Promise<Reply> {
    const { store, policy } = this.o;
    const may = await policy.mayForceUnlock(actor.userId);
    if (!may.ok) {
      await store.audit({ actor: actor.userId, action: 'refused', detail: { reason: may.reason, command: 'unlock', unlockReason: reason } });
      return refuse(`${may.reason}. Nothing changed.`);
    }
    const holder = await TargetLock.forceRelease(store.pool, 'ml-analyze');
    await store.audit({ actor: actor.userId, action: holder ? 'lock-force-released' : 'lock-release-noop', detail: { reason, target: 'ml-analyze', ...(holder ? { pid: holder.pid, holder: holder.application } : {}) } });
    if (!holder) return reply('nobody holds the ml-analyze rollback lock; nothing changed');
    this.o.log.warn({ user: actor.userId, reason, holder: holder.application }, 'rollback lock force-released');
    return reply(`force-released the ml-analyze rollback lock held by ${holder.application || `backend ${holder.pid}`} (reason: ${reason}). Its run stops before its next step as interrupted.`);
  }

  /** Ends a failed or interrupted run for good: it stays failed, marked aborted, and Retry/Skip refuse it. */
  private async abort(id: string, userId: string): Promise<Reply> {
    const { store, notifier } = this.o;
    const out = await store.tx(async (c) => {
      const req = await store.lockRequest(c, id);
      if (!req) return refuse(`no request ${id}`);
      if ((req.state !== 'failed' && req.state !== 'interrupted') || isAborted(req)) return refuse(`${isAborted(req) ? `${id} was already aborted` : describeState(id, req.state)}; nothing to abort`);
      const error = { ...(req.error ?? { code: 'aborted', message: 'aborted' }), aborted: true, abortedBy: userId };
      const ended = await store.transition(id, [req.state], 'failed', { finished_at: new Date(), error }, c);
      if (!ended) return refuse(`${id} changed meanwhile; nothing changed`);
      await store.audit({ requestId: id, actor: userId, action: 'aborted', detail: { from: req.state, step: req.error?.step } }, c);
      return ended;
    });
    if ('ok' in out) return out;
    const ended = out;
    await notifier.decided(ended, { kind: 'aborted', by: userId });
    return reply(`${id} aborted; it stays ${STATE_LABEL[ended.state]} and nothing more will run`);
  }

  private async status(id?: string): Promise<Reply> {
    const { store } = this.o;
    const req = id ? await store.getRequest(id) : (await store.recentRequests(1))[0];
    if (!req) return refuse(id ? `no request ${id}` : 'no requests yet');
    const approvers = (await store.decisions(req.id)).filter((d) => d.decision === 'approve').map((d) => d.userId);
    return reply(statusText(req, await store.latestSteps(req.id), approvers), req.id);
  }

  private async history(limit: number, json: boolean): Promise<Reply> {
    const { store } = this.o;
    if (json) {
      const audit = await store.auditTrail({ limit: limit * 20 });
      return reply(audit.map((a) => JSON.stringify(a)).join('\n') || '(empty)');
    }
    const rows = await store.recentRequests(limit);
    if (!rows.length) return reply('no requests yet');
    return reply(rows.map((r) => `${r.id}  ${new Date(r.createdAt).toISOString().slice(0, 16).replace('T', ' ')}  ${r.requester}  ${r.procedure}  — ${FINAL_STATES.includes(r.state) || r.state === 'interrupted' ? outcomeLine(r) : STATE_LABEL[r.state]}`).join('\n'));
  }
}

export function helpText(topic?: string): string {
  if (topic) return `Usage: /ml-rollback ${USAGE[topic as keyof typeof USAGE]}`;
  return [
    '*ml-rollback* runs the ML-Analyze rollback runbook: it shows the exact plan, a second person approves, a worker runs it and reports here.',
    ...Object.values(USAGE).map((u) => `• \`/ml-rollback ${u}\``),
    'Any procedure takes `--dry-run` (plan only). Read-only procedures (`verify`) need no approval.',
  ].join('\n');
}

export { AppError };
