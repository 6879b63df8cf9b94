import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SEED_COUNTS } from '../../src/sandbox/seed.js';
import { startTestBot, type TestBot } from '../support/bot.js';

const REQUESTER = 'U0FAKEUS1';
const APPROVER = 'U0FAKEUS2';

describe('runbook procedures from Slack (signed HTTP)', () => {
  let bot: TestBot;
  let dir: string;
  beforeEach(async () => {
    // The kubectl stand-in reads SANDBOX_STATE from its environment, inherited from this test process.
    dir = mkdtempSync(path.join(tmpdir(), 'mlrb-slack-'));
    process.env.SANDBOX_STATE = path.join(dir, 'state.json');
    bot = await startTestBot();
  });
  afterEach(async () => {
    await bot.close();
    delete process.env.SANDBOX_STATE;
    rmSync(dir, { recursive: true, force: true });
  });

  it('data revert-matches: preview count in the plan, approval, run, backup named in the thread', async () => {
    await bot.command('data revert-matches --since 2024-01-15T11:00:00+01:00', { user_id: REQUESTER });
    const plan = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && !c.body.thread_ts);
    const shown = JSON.stringify(plan.body.blocks);
    expect(shown).toContain(`${SEED_COUNTS.mlMatchesSince} items matched by ml-analyze`);
    expect(shown).toContain('2024-01-15T10:00:00.000Z');
    await bot.click('rollback_approve', 'R-1', APPROVER);
    const done = await bot.waitForState('R-1', ['succeeded', 'failed']);
    expect(done.state).toBe('succeeded');
    const threadTs = String(plan.response?.ts ?? '');
    const outcome = await bot.slack.waitFor((c) => c.body.thread_ts === threadTs && JSON.stringify(c.body.blocks ?? '').includes('Backups'));
    expect(JSON.stringify(outcome.body.blocks)).toContain('R-1-supplier_items');
  });

  it('container --k8s --to-revision 9 is refused at plan time with the revisions that exist', async () => {
    const res = await bot.command('container --k8s --to-revision 9', { user_id: REQUESTER });
    expect(res.status).toBe(200);
    const reply = await bot.slack.waitFor('response_url');
    expect(String(reply.body.text)).toMatch(/revision 9 is not in the rollout history of deployment\/ml-analyze \(revisions: 1, 2, 3\)/);
    expect(bot.slack.calls.some((c) => c.method === 'chat.postMessage')).toBe(false);
  });
});
