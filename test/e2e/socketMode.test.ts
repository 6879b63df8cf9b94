import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SUPPLIER_A } from '../../src/sandbox/seed.js';
import { envelope } from '../support/fakeSocketMode.js';
import { slashCommandFields } from '../support/slackSign.js';
import { APP_TOKEN, startSocketBot, type SocketBot } from '../support/socketBot.js';

/** Socket Mode: the same handlers behind Slack's WebSocket instead of signed HTTP. */
describe('Socket Mode', () => {
  let bot: SocketBot;
  beforeEach(async () => {
    bot = await startSocketBot({ worker: false });
  });
  afterEach(async () => {
    await bot.close();
  });

  it('connects with the app token, acks a slash_commands envelope and posts the plan', async () => {
    expect(bot.slack.callsOf('apps.connections.open')[0]?.token).toBe(APP_TOKEN);
    const env = envelope('slash_commands', slashCommandFields({ text: `data clear-embeddings --supplier ${SUPPLIER_A}`, response_url: bot.slack.responseUrl('sock') }));
    bot.socket.send(env);
    const ack = await bot.socket.waitForAck(env.envelope_id);
    expect(ack.envelope_id).toBe(env.envelope_id);

    const plan = await bot.slack.waitFor((c) => c.method === 'chat.postMessage' && !c.body.thread_ts);
    expect(plan.token).toBe('xoxb-0000-test-token-do-not-leak');
    expect(String(plan.body.text)).toMatch(/^R-1 Clear embeddings of supplier/);
    expect(JSON.stringify(plan.body.blocks)).toContain('rollback_approve');
    const reply = await bot.slack.waitFor((c) => c.method === 'response_url' && c.responseId === 'sock');
    expect(String(reply.body.text)).toMatch(/^R-1 planned \(waiting for approval/);
    expect((await bot.runtime.store.getRequest('R-1'))?.state).toBe('awaiting_approval');
  });

  it('answers bad input inside the ack payload', async () => {
    const env = envelope('slash_commands', slashCommandFields({ text: 'frobnicate', response_url: bot.slack.responseUrl('bad') }));
    bot.socket.send(env);
    const ack = await bot.socket.waitForAck(env.envelope_id);
    expect(ack.payload).toMatchObject({ response_type: 'ephemeral' });
    expect(String(ack.payload?.text)).toContain('Usage:');
    expect(await bot.runtime.store.recentRequests(10)).toEqual([]);
  });
});
