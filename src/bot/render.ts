import type { KnownBlock } from '@slack/types';
import { button, escape } from './blocks.js';
import { checkLine, checklistWarning, checksOf, outcomeLine, undoLines, RISK_ICON, STATE_LABEL, stepLine } from '../requests/format.js';
import type { DecisionEvent } from '../requests/notifier.js';
import type { RequestRow, StepRunRow } from '../store/store.js';

/** Block Kit for requests. Limits (50 blocks, 3000 chars a section) are enforced here, never hit. */

export const ACTIONS = {
  approve: 'rollback_approve',
  reject: 'rollback_reject',
  cancel: 'rollback_cancel',
  retry: 'rollback_retry',
  abort: 'rollback_abort',
  skip: 'rollback_skip',
  replan: 'rollback_replan',
} as const;

const SECTION_MAX = 2900;
const MAX_BLOCKS = 45;

export function fit(text: string, requestId: string, max = SECTION_MAX): string {
  if (text.length <= max) return text;
  const note = `\n… (truncated; see \`/ml-rollback status ${requestId}\`)`;
  return text.slice(0, max - note.length) + note;
}

/** Slack user ids become mentions; anything else (console names) stays as written. */
export const who = (id: string) => (/^[UW][A-Z0-9]{2,}$/.test(id) ? `<@${id}>` : id);
export const mentionIds = (text: string) => text.replace(/\b([UW][A-Z0-9]{8,})\b/g, '<@$1>');

const section = (text: string, id: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: fit(text, id) } });
const context = (text: string, id: string): KnownBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text: fit(text, id, 2000) }] });


export function planText(req: RequestRow): string {
  return `${req.id} ${req.plan.title} — ${STATE_LABEL[req.state]} (requested by ${req.requester})`;
}

export function planBlocks(req: RequestRow, note?: string): KnownBlock[] {
  const { plan } = req;
  const id = req.id;
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: `${id} · ${plan.title}`.slice(0, 150) } },
    section(
      [
        `${RISK_ICON[plan.risk]} *${plan.risk}* · requested by ${who(req.requester)} · \`${escape(req.command)}\``,
        `*State:* ${STATE_LABEL[req.state]}${req.state === 'awaiting_approval' && req.expiresAt ? ` · expires <!date^${Math.floor(new Date(req.expiresAt).getTime() / 1000)}^{time}|${new Date(req.expiresAt).toISOString()}>` : ''}${req.approvalsNeeded > 1 ? ` · needs ${req.approvalsNeeded} approvals` : ''}`,
        ...(req.emergencyReason ? [`🚨 *EMERGENCY* requested: ${escape(req.emergencyReason)}`] : []),
        ...(note ? [note] : []),
      ].join('\n'),
      id,
    ),
  ];
  if (plan.preview.length) blocks.push(section(`*Preview*\n${plan.preview.map((p) => `• ${p.label}: ${escape(p.value)}`).join('\n')}`, id));
  const stepBudget = MAX_BLOCKS - blocks.length - 3;
  plan.steps.slice(0, stepBudget).forEach((s, i) => {
    const shows = s.shows.map((x) => escape(x.replaceAll('R-N', id))).join('\n');
    blocks.push(
      section(
        `*${i + 1}. ${escape(s.title)}* ${RISK_ICON[s.risk]} _${s.risk}_${s.idempotent ? '' : ' · not repeatable'}\n\`\`\`${shows}\`\`\`${s.inverse ? `\n↩︎ undo: ${escape(s.inverse.replaceAll('R-N', id))}` : ''}`,
        id,
      ),
    );
  });
  if (plan.steps.length > stepBudget) blocks.push(section(`… and ${plan.steps.length - stepBudget} more steps: \`/ml-rollback status ${id}\``, id));
  if (plan.notes.length) blocks.push(context(plan.notes.map((n) => `📝 ${escape(n)}`).join('\n'), id));
  if (req.state === 'awaiting_approval') {
    blocks.push({
      type: 'actions',
      block_id: `decide:${id}`,
      elements: [
        button('Approve', ACTIONS.approve, id, 'primary', plan.risk === 'destructive' ? `Run ${plan.steps.length} steps of ${escape(plan.title)}? The destructive steps are backed up first.` : undefined),
        button('Reject', ACTIONS.reject, id, 'danger'),
        button('Cancel', ACTIONS.cancel, id),
      ],
    });
  } else if (req.state === 'expired') {
    blocks.push({ type: 'actions', block_id: `replan:${id}`, elements: [button('Plan again', ACTIONS.replan, id, 'primary')] });
  } else if (req.state === 'approved' || req.state === 'running') {
    blocks.push({ type: 'actions', block_id: `running:${id}`, elements: [button('Cancel', ACTIONS.cancel, id, 'danger', 'Stop after ending the running step? Steps after it will not run.')] });
  }
  return blocks;
}

export function decisionText(req: RequestRow, e: DecisionEvent): string {
  switch (e.kind) {
    case 'approval-recorded':
      return `👍 ${who(e.by)} approved ${req.id}; ${e.remaining} more approval${e.remaining === 1 ? '' : 's'} needed`;
    case 'approved':
      return e.emergency
        ? `🚨 <!here> ${who(e.by)} SELF-APPROVED ${req.id} under emergency: ${escape(e.emergency)}`
        : `✅ ${who(e.by)} approved ${req.id}; queued to run`;
    case 'rejected':
      return `🚫 ${who(e.by)} rejected ${req.id}; nothing ran`;
    case 'cancelled':
      return `🛑 ${who(e.by)} cancelled ${req.id}; nothing ran`;
    case 'cancel-requested':
      return `🛑 ${who(e.by)} asked to stop ${req.id}: ending the running step`;
    case 'expired':
      return `⌛ ${req.id} expired without approval; nothing ran. Press *Plan again* for a fresh plan.`;
    case 'retry':
      return `🔁 ${who(e.by)} retried ${req.id} from step ${e.fromStep + 1}`;
    case 'aborted':
      return `⏹️ ${who(e.by)} aborted ${req.id}; nothing more will run`;
    case 'skipped':
      return `⏭️ ${who(e.by)} skipped step ${e.step + 1} of ${req.id}; resuming from step ${e.step + 2}`;
  }
}

export function progressText(req: RequestRow, steps: ReadonlyMap<number, StepRunRow>, line?: string): string {
  const lines = req.plan.steps.map((s, i) => stepLine(i, s, steps.get(i)));
  const head = `*Progress of ${req.id}* — ${STATE_LABEL[req.state]}`;
  return [head, ...lines, ...(line ? [`_${escape(line)}_`] : [])].join('\n');
}

export function progressBlocks(req: RequestRow, steps: ReadonlyMap<number, StepRunRow>, line?: string): KnownBlock[] {
  return [section(escape(progressText(req, steps, line)), req.id)];
}


export function outcomeBlocks(req: RequestRow, steps: ReadonlyMap<number, StepRunRow>): KnownBlock[] {
  const id = req.id;
  const warning = checklistWarning(steps);
  const undo = undoLines(req, steps);
  const blocks: KnownBlock[] = [section(escape([outcomeLine(req), ...(warning ? [warning] : []), ...undo].join('\n')), id)];
  const checks = checksOf(steps);
  if (checks.length) blocks.push(section(`*Health verification checklist*\n${checks.map((c) => escape(checkLine(c))).join('\n')}`, id));
  const failedStep = req.error?.step;
  const failedRun = failedStep !== undefined ? steps.get(failedStep) : undefined;
  if (failedRun?.outputTail) blocks.push(section(`*Output of step ${failedStep! + 1} (last lines)*\n\`\`\`${escape(failedRun.outputTail.slice(-2000))}\`\`\``, id));
  const backups = [...steps.values()].map((s) => s.result?.backup).filter((b): b is NonNullable<typeof b> => Boolean(b));
  if (backups.length) blocks.push(context(`💾 Backups: ${backups.map((b) => `\`${b.id}\` (${b.rows} ${b.file?.endsWith('.jsonl') ? 'keys' : 'rows'})`).join(', ')} — \`/ml-rollback restore NAME\``, id));
  if (req.state === 'failed' && req.error?.code === 'plan_changed') {
    // The approved plan no longer fits the world: retrying it cannot succeed; a fresh plan can.
    blocks.push({ type: 'actions', block_id: `replan:${id}:${req.runNo}`, elements: [button('Plan again', ACTIONS.replan, id, 'primary'), button('Abort', ACTIONS.abort, id, 'danger')] });
  } else if (req.state === 'failed' || req.state === 'interrupted') {
    const from = failedStep ?? 0;
    blocks.push({
      type: 'actions',
      block_id: `recover:${id}:${req.runNo}`,
      elements: [
        button(`Retry from step ${from + 1}`, ACTIONS.retry, `${id}|${from}`, 'primary'),
        ...(failedStep !== undefined && failedStep < req.plan.steps.length
          ? [button(`Skip step ${from + 1}`, ACTIONS.skip, `${id}|${from}`, undefined, `Mark step ${from + 1} as not needed and continue from step ${from + 2}? Check its work by hand first.`)]
          : []),
        button('Abort', ACTIONS.abort, id, 'danger'),
      ],
    });
  }
  return blocks;
}
