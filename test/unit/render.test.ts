import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { ACTIONS, outcomeBlocks, planBlocks, progressBlocks } from '../../src/bot/render.js';
import type { Plan, StepSpec } from '../../src/rollback/types.js';
import type { RequestRow, StepRunRow } from '../../src/store/store.js';

const LONG = 'x'.repeat(5000);

function step(i: number): StepSpec {
  return {
    id: `step-${i}`,
    kind: 'pg-delete-batched',
    title: `Delete batch ${i} ${'of rows '.repeat(40)}`,
    risk: 'destructive',
    idempotent: i % 2 === 0,
    timeoutMs: 1000,
    params: {},
    shows: [`DELETE FROM product_embeddings WHERE supplier_item_id IN (${'\'a0000000-0000-4000-8000-000000000001\', '.repeat(80)})`, LONG],
    inverse: `restore R-N-${i} ${'again '.repeat(100)}`,
  };
}

function request(overrides: Partial<RequestRow> = {}, steps = 80): RequestRow {
  const plan: Plan = {
    procedure: 'full',
    args: {},
    title: `Full rollback ${'with a very long title '.repeat(20)}`,
    risk: 'destructive',
    steps: Array.from({ length: steps }, (_, i) => step(i)),
    preview: Array.from({ length: 60 }, (_, i) => ({ label: `Table ${i}`, value: `${i * 1000} rows <b>&amp;</b> ${'sample '.repeat(30)}` })),
    notes: Array.from({ length: 30 }, (_, i) => `note ${i}: ${'the runbook is wrong here '.repeat(10)}`),
  };
  const now = new Date('2026-12-03T12:00:00Z');
  return {
    id: 'R-42', procedure: 'full', command: `full --emergency ${LONG}`, plan, planHash: 'h', approvedHash: null, risk: 'destructive',
    state: 'awaiting_approval', requester: 'U0FAKEUS1', channelId: 'C0FAKE0CH', channelName: 'ml-analyze', messageTs: null, threadTs: null,
    progressTs: null, incidentId: null, emergencyReason: LONG, approvalsNeeded: 2, runNo: 1, resumeFrom: 0, cancelRequested: false,
    error: null, createdAt: now, updatedAt: now, expiresAt: new Date(now.getTime() + 30 * 60_000), startedAt: null, finishedAt: null,
    ...overrides,
  };
}

function stepRuns(n: number, state: StepRunRow['state'] = 'succeeded'): Map<number, StepRunRow> {
  const runs = new Map<number, StepRunRow>();
  for (let i = 0; i < n; i++) {
    runs.set(i, {
      id: i, requestId: 'R-42', runNo: 1, stepIndex: i, stepId: `step-${i}`, attempt: 1, state, worker: 'w',
      startedAt: new Date(), finishedAt: new Date(), exitCode: 0, rows: 1, keys: null,
      summary: `deleted rows ${'and more '.repeat(50)}`, outputTail: LONG,
      result: {
        summary: 's',
        checks: Array.from({ length: 40 }, (_, c) => ({ name: `check ${c}`, status: 'fail' as const, evidence: 'e'.repeat(200) })),
        backup: { id: `R-42-backup-${i}`, file: `/b/R-42-${i}.dump`, rows: 10 },
      },
    });
  }
  return runs;
}

/** Every text Slack measures, with the limit it applies to it. */
function assertWithinLimits(blocks: KnownBlock[]): void {
  expect(blocks.length).toBeLessThanOrEqual(50);
  for (const b of blocks) {
    if (b.type === 'section') expect(b.text!.text.length).toBeLessThanOrEqual(3000);
    if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(150);
    if (b.type === 'context') for (const e of b.elements) if ('text' in e) expect(e.text.length).toBeLessThanOrEqual(3000);
    if (b.type === 'actions') {
      expect(b.elements.length).toBeLessThanOrEqual(25);
      for (const e of b.elements) {
        if (e.type !== 'button') continue;
        expect(e.text.text.length).toBeLessThanOrEqual(75);
        expect((e.value ?? '').length).toBeLessThanOrEqual(2000);
        if (e.confirm?.text) expect(e.confirm.text.text.length).toBeLessThanOrEqual(300);
      }
    }
  }
}

describe('Block Kit limits are never hit', () => {
  it('a plan with 80 long steps, 60 preview lines and 30 notes stays within 50 blocks and 3000 chars a section', () => {
    const req = request();
    const blocks = planBlocks(req, LONG);
    assertWithinLimits(blocks);
    // The truncation points to the full record rather than failing silently.
    const text = JSON.stringify(blocks);
    expect(text).toContain('/ml-rollback status R-42');
    expect(text).toContain('more steps');
    // The buttons survive truncation.
    const actions = blocks.find((b) => b.type === 'actions');
    expect(actions && actions.type === 'actions' ? actions.elements.map((e) => (e as { action_id: string }).action_id) : []).toEqual([
      ACTIONS.approve,
      ACTIONS.reject,
      ACTIONS.cancel,
    ]);
  });

  it('a running plan keeps its Cancel button within the limits', () => {
    assertWithinLimits(planBlocks(request({ state: 'running' })));
  });

  it('progress of 80 steps with long summaries fits one section', () => {
    const req = request({ state: 'running' });
    assertWithinLimits(progressBlocks(req, stepRuns(80, 'running'), LONG));
  });

  it('a failure with a long output tail, 40 checks and 80 backups stays within the limits and offers Retry/Abort', () => {
    const req = request({ state: 'failed', error: { code: 'step_failed', message: LONG, step: 79 } });
    const blocks = outcomeBlocks(req, stepRuns(80, 'failed'));
    assertWithinLimits(blocks);
    const actions = blocks.find((b) => b.type === 'actions');
    expect(JSON.stringify(actions)).toContain('Retry from step 80');
    expect(JSON.stringify(actions)).toContain('"value":"R-42|79"');
  });

  it('escapes < > & from plan data so it cannot mention or link', () => {
    const req = request({}, 1);
    const text = JSON.stringify(planBlocks(req));
    expect(text).not.toContain('<b>');
    expect(text).toContain('&lt;b&gt;&amp;amp;&lt;/b&gt;');
  });
});

describe('the outcome of a stopped request', () => {
  const buttons = (blocks: KnownBlock[]) =>
    blocks.flatMap((b) => (b.type === 'actions' ? b.elements.map((e) => ('action_id' in e ? e.action_id : '')) : []));

  it('offers a fresh plan, not a retry, when the world changed since the plan', () => {
    const req = request({ state: 'failed', error: { code: 'plan_changed', message: 'the plan expected 42 rows but there are now 43', step: 0 } }, 3);
    const ids = buttons(outcomeBlocks(req, new Map()));
    expect(ids).toContain(ACTIONS.replan);
    expect(ids).not.toContain(ACTIONS.retry);
  });

  it('lists what already ran and how to undo it, newest first, and flags failed health checks', () => {
    const req = request({ state: 'cancelled', error: { code: 'cancelled', message: 'cancelled before step 3', step: 2 } }, 4);
    const text = JSON.stringify(outcomeBlocks(req, stepRuns(2)));
    expect(text).toMatch(/step 2 \(Delete batch 1[^)]*\) ran; to undo: restore R-42-1/);
    expect(text.indexOf('step 2 (')).toBeLessThan(text.indexOf('step 1 ('));
    expect(text).toContain('⚠️ 40 health checks failed');
  });
});
