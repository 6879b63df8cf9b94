import type { RequestRow, StepRunRow } from '../store/store.js';
import type { CheckResult, Plan, StepSpec } from '../rollback/types.js';

/** Plain-text views of a request shared by Slack (as mrkdwn) and the console. */

export const STATE_LABEL: Record<RequestRow['state'], string> = {
  awaiting_approval: 'awaiting approval',
  approved: 'approved, queued',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  rejected: 'rejected',
  expired: 'expired',
  interrupted: 'interrupted: needs a human',
  dry_run: 'dry run (plan only)',
};

const STATE_PHRASE: Record<RequestRow['state'], string> = {
  awaiting_approval: 'is awaiting approval',
  approved: 'is approved and queued',
  running: 'is running',
  succeeded: 'has already succeeded',
  failed: 'has failed',
  cancelled: 'was cancelled',
  rejected: 'was rejected',
  expired: 'has expired',
  interrupted: 'was interrupted and waits for a human',
  dry_run: 'was a dry run (plan only)',
};

/** "R-4 was rejected": a request's state as a sentence, for refusals. */
export const describeState = (id: string, state: RequestRow['state']) => `${id} ${STATE_PHRASE[state]}`;

export const RISK_ICON: Record<Plan['risk'], string> = { 'read-only': '🟢', reversible: '🟡', destructive: '🔴' };

export function stepIcon(run: StepRunRow | undefined): string {
  switch (run?.state) {
    case 'succeeded':
      return run.result?.checks?.some((c) => c.status === 'fail') ? '⚠️' : '✅';
    case 'running':
      return '⏳';
    case 'failed':
      return '❌';
    case 'cancelled':
      return '🛑';
    case 'interrupted':
      return '⚡';
    case 'skipped':
      return '⏭️';
    default:
      return '▫️';
  }
}

export const secondsBetween = (a: Date, b: Date | null) => (b ? `${((b.getTime() - a.getTime()) / 1000).toFixed(1)} s` : 'running');

export function stepLine(i: number, step: StepSpec, run: StepRunRow | undefined): string {
  const timing = run ? ` (${secondsBetween(new Date(run.startedAt), run.finishedAt ? new Date(run.finishedAt) : null)})` : '';
  const summary = run?.summary ? ` — ${run.summary}` : '';
  return `${stepIcon(run)} ${i + 1}. ${step.title}${timing}${summary}`;
}

export function checkLine(c: CheckResult): string {
  const icon = c.status === 'ok' ? '✅' : c.status === 'fail' ? '❌' : '👀';
  return `${icon} ${c.name}: ${c.evidence}`;
}

/** The checklist of the last step that produced one. */
export function checksOf(steps: ReadonlyMap<number, StepRunRow>): readonly CheckResult[] {
  const withChecks = [...steps.values()].filter((s) => s.result?.checks?.length).sort((a, b) => b.stepIndex - a.stepIndex);
  return withChecks[0]?.result?.checks ?? [];
}

export function outcomeLine(req: RequestRow): string {
  switch (req.state) {
    case 'succeeded':
      return `✅ ${req.id} succeeded: ${req.plan.title}`;
    case 'failed':
      return req.error?.step !== undefined
        ? `❌ ${req.id} failed at step ${req.error.step + 1} (${req.plan.steps[req.error.step]?.title ?? '?'}): ${req.error.message}. Steps after it did not run.`
        : `❌ ${req.id} failed: ${req.error?.message ?? 'unknown error'}`;
    case 'cancelled':
      return `🛑 ${req.id} cancelled${req.error?.step !== undefined ? ` at step ${req.error.step + 1}` : ''}${req.error?.message ? `: ${req.error.message}` : ''}`;
    case 'interrupted':
      return `⚡ ${req.id} interrupted: ${req.error?.message ?? ''}. Choose Retry from step ${(req.error?.step ?? 0) + 1} or Abort.`;
    default:
      return describeState(req.id, req.state);
  }
}

export function statusText(req: RequestRow, steps: ReadonlyMap<number, StepRunRow>, approvers: readonly string[]): string {
  const lines = [
    `*${req.id}* ${RISK_ICON[req.plan.risk]} ${req.plan.title} — *${STATE_LABEL[req.state]}*`,
    `requested by ${req.requester} at ${new Date(req.createdAt).toISOString()}${approvers.length ? `; approved by ${approvers.join(', ')}` : ''}`,
    ...req.plan.steps.map((s, i) => stepLine(i, s, steps.get(i))),
  ];
  const checks = checksOf(steps);
  if (checks.length) lines.push('Health checklist:', ...checks.map(checkLine));
  if (req.error) lines.push(outcomeLine(req));
  return lines.join('\n');
}

/**
 * What already ran of a stopped request and how to undo it, newest first (compensations are
 * offered to a person, never run by themselves).
 */
export function undoLines(req: RequestRow, steps: ReadonlyMap<number, StepRunRow>): string[] {
  if (req.state !== 'failed' && req.state !== 'cancelled' && req.state !== 'interrupted') return [];
  const lines: string[] = [];
  for (let i = req.plan.steps.length - 1; i >= 0; i--) {
    const step = req.plan.steps[i]!;
    if (steps.get(i)?.state === 'succeeded' && step.inverse) lines.push(`↩ step ${i + 1} (${step.title}) ran; to undo: ${step.inverse.replaceAll('R-N', req.id)}`);
  }
  return lines;
}

/** A finished checklist with failures is not a plain success, whatever the request state says. */
export function checklistWarning(steps: ReadonlyMap<number, StepRunRow>): string | undefined {
  const failed = checksOf(steps).filter((c) => c.status === 'fail');
  return failed.length ? `⚠️ ${failed.length} health check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => c.name).join('; ')}` : undefined;
}
