import type { StepRunRow } from '../../src/store/store.js';
import { SIGNING_SECRET, type TestBot } from './bot.js';
import type { FakeSlackCall } from './fakeSlack.js';
import { blockActionsBody, postSigned, type SlashFields } from './slackSign.js';

/** People in the default policy: anyone may request, anyone but the requester may approve. */
export const REQUESTER = 'U0FAKEUS1';
export const APPROVER = 'U0FAKEUS2';
export const APPROVER_2 = 'U0FAKEUS3';

let replySeq = 0;
const nextReplyId = (kind: string) => `${kind}-${++replySeq}`;

/**
 * A signed slash command whose response_url is unique, so the reply to exactly this command can be
 * awaited with `reply()`.
 */
export async function commandAs(bot: TestBot, text: string, fields: Partial<SlashFields> = {}) {
  const replyId = nextReplyId('cmd');
  const res = await bot.command(text, { response_url: bot.slack.responseUrl(replyId), ...fields });
  return { ...res, reply: (timeoutMs?: number) => replyTo(bot, replyId, timeoutMs) };
}

/** A signed button click with its own response_url (see `commandAs`). */
export async function clickAs(bot: TestBot, actionId: string, value: string, userId: string) {
  const replyId = nextReplyId('click');
  const body = blockActionsBody({ userId, actionId, value, responseUrl: bot.slack.responseUrl(replyId) });
  const res = await postSigned(`${bot.url}/slack/events`, SIGNING_SECRET, body);
  return { ...res, replyId, reply: (timeoutMs?: number) => replyTo(bot, replyId, timeoutMs) };
}

/** The text the bot posted to one response_url. */
export async function replyTo(bot: TestBot, replyId: string, timeoutMs = 10_000): Promise<{ text: string; call: FakeSlackCall }> {
  const call = await bot.slack.waitFor((c) => c.method === 'response_url' && c.responseId === replyId, timeoutMs);
  return { text: String(call.body.text ?? ''), call };
}

/** The plan message the bot posted in the channel for a request (top level, not in a thread). */
export function planPost(bot: TestBot, requestId: string): Promise<FakeSlackCall> {
  return bot.slack.waitFor((c) => c.method === 'chat.postMessage' && !c.body.thread_ts && String(c.body.text ?? '').startsWith(`${requestId} `));
}

export async function sql<T extends Record<string, unknown>>(bot: TestBot, text: string, params: unknown[] = []): Promise<T[]> {
  return (await bot.env.db.query<T>(text.replaceAll('{{schema}}', bot.config.stateSchema), params)).rows;
}

export async function requestCount(bot: TestBot): Promise<number> {
  return Number((await sql<{ n: string }>(bot, 'SELECT count(*) AS n FROM {{schema}}.requests'))[0]!.n);
}

export async function auditActions(bot: TestBot, requestId?: string): Promise<string[]> {
  const rows = await sql<{ action: string }>(
    bot,
    `SELECT action FROM {{schema}}.audit ${requestId ? 'WHERE request_id = $1' : ''} ORDER BY id`,
    requestId ? [requestId] : [],
  );
  return rows.map((r) => r.action);
}

export async function stepRuns(bot: TestBot, requestId: string): Promise<StepRunRow[]> {
  return bot.runtime.store.allStepRuns(requestId);
}

/** Every BullMQ job of this test's queue, whatever its state. */
export async function allJobs(bot: TestBot) {
  return bot.runtime.queue.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized', 'waiting-children']);
}

export async function embeddingsOf(bot: TestBot, supplier: string): Promise<number> {
  const rows = await sql<{ n: string }>(
    bot,
    'SELECT count(*) AS n FROM product_embeddings pe JOIN supplier_items si ON si.id = pe.supplier_item_id WHERE si.supplier_id = $1',
    [supplier],
  );
  return Number(rows[0]!.n);
}

export async function tableCount(bot: TestBot, table: 'supplier_items' | 'product_embeddings' | 'parsing_logs' | 'match_review_queue'): Promise<number> {
  return Number((await sql<{ n: string }>(bot, `SELECT count(*) AS n FROM ${table}`))[0]!.n);
}

/** Blocks of a stored fake-Slack message, as one string to search. */
export function blocksText(blocks: unknown): string {
  return JSON.stringify(blocks ?? []);
}

export function hasButtons(blocks: unknown): boolean {
  return Array.isArray(blocks) && blocks.some((b: { type?: string }) => b.type === 'actions');
}
