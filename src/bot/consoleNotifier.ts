import type { Writable } from 'node:stream';
import { checkLine, checklistWarning, checksOf, outcomeLine, undoLines, RISK_ICON, STATE_LABEL, stepLine } from '../requests/format.js';
import type { DecisionEvent, MessageRef, Notifier } from '../requests/notifier.js';
import type { RequestRow, StepRunRow } from '../store/store.js';

/** The console's chat: plans as text, a line per step change, the outcome and checklist at the end. */
export class ConsoleNotifier implements Notifier {
  private seq = 0;
  private readonly printed = new Map<string, string>();
  private readonly waiters = new Map<string, Array<(r: RequestRow) => void>>();
  private readonly ended = new Map<string, RequestRow>();

  constructor(private readonly out: Writable) {}

  private say(text: string): void {
    this.out.write(`${text}\n`);
  }

  async planned(req: RequestRow): Promise<MessageRef | undefined> {
    const { plan } = req;
    const lines = [
      '',
      `── ${req.id} · ${plan.title} ── ${RISK_ICON[plan.risk]} ${plan.risk} · requested by ${req.requester} · ${STATE_LABEL[req.state]}`,
      ...(req.emergencyReason ? [`   🚨 EMERGENCY: ${req.emergencyReason}`] : []),
      ...plan.preview.map((p) => `   ${p.label}: ${p.value}`),
      '   Steps:',
      ...plan.steps.flatMap((s, i) => [
        `   ${i + 1}. ${s.title} [${s.risk}${s.idempotent ? '' : ', not repeatable'}]`,
        ...s.shows.map((x) => `        $ ${x.replaceAll('R-N', req.id)}`),
        ...(s.inverse ? [`        ↩ undo: ${s.inverse.replaceAll('R-N', req.id)}`] : []),
      ]),
      ...plan.notes.map((n) => `   📝 ${n}`),
      req.state === 'awaiting_approval'
        ? `   → another user approves with: approve ${req.id} --as NAME   (or: reject ${req.id} | cancel ${req.id})`
        : '',
    ];
    this.say(lines.join('\n'));
    return { channelId: 'console', ts: `${Date.now()}.${++this.seq}` };
  }

  async decided(req: RequestRow, event: DecisionEvent): Promise<void> {
    const by = 'by' in event ? ` by ${event.by}` : '';
    const extra = event.kind === 'approval-recorded' ? ` (${event.remaining} more needed)` : event.kind === 'approved' && event.emergency ? ` — EMERGENCY SELF-APPROVAL: ${event.emergency}` : '';
    if (event.kind === 'retry') this.ended.delete(req.id);
    this.say(`[${req.id}] ${event.kind}${by}${extra}`);
    if (['rejected', 'cancelled', 'expired'].includes(event.kind)) this.wake(req);
  }

  async progress(req: RequestRow, steps: ReadonlyMap<number, StepRunRow>, line?: string): Promise<void> {
    for (const [i, run] of steps) {
      const text = stepLine(i, req.plan.steps[i]!, run);
      const key = `${req.id}:${i}`;
      if (run.state === 'running' && this.printed.get(key)?.startsWith('⏳')) continue;
      if (this.printed.get(key) === text) continue;
      this.printed.set(key, text);
      this.say(`[${req.id}] ${text}`);
    }
    if (line) this.say(`[${req.id}]    … ${line}`);
  }

  async finished(req: RequestRow, steps: ReadonlyMap<number, StepRunRow>): Promise<void> {
    await this.progress(req, steps);
    this.say(`[${req.id}] ${outcomeLine(req)}`);
    const warning = checklistWarning(steps);
    if (warning) this.say(`   ${warning}`);
    for (const line of undoLines(req, steps)) this.say(`   ${line}`);
    const checks = checksOf(steps);
    if (checks.length) this.say(['   Health verification checklist:', ...checks.map((c) => `   ${checkLine(c)}`)].join('\n'));
    const failed = req.error?.step !== undefined ? steps.get(req.error.step) : undefined;
    if (failed?.outputTail) this.say(`   output (last lines):\n${failed.outputTail.split('\n').map((l) => `     | ${l}`).join('\n')}`);
    if (req.state === 'failed' && req.error?.code === 'plan_changed') this.say(`   → replan ${req.id} (a fresh plan of the same command)   or   abort ${req.id}`);
    else if (req.state === 'failed' || req.state === 'interrupted') this.say(`   → retry ${req.id} --from ${(req.error?.step ?? 0) + 1}   or   abort ${req.id}`);
    this.wake(req);
  }

  /** Resolves when the request reaches an end (used by `wait` and at end of input). */
  waitFor(id: string): Promise<RequestRow> {
    const ended = this.ended.get(id);
    if (ended) return Promise.resolve(ended);
    return new Promise((resolve) => this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]));
  }

  private wake(req: RequestRow): void {
    this.ended.set(req.id, req);
    for (const w of this.waiters.get(req.id) ?? []) w(req);
    this.waiters.delete(req.id);
  }
}
