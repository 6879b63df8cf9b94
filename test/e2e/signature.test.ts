import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SUPPLIER_A } from '../../src/sandbox/seed.js';
import { SIGNING_SECRET, startTestBot, type TestBot } from '../support/bot.js';
import { auditActions, requestCount } from '../support/e2e.js';
import { postSigned, signSlack, slashCommandBody, type PostSignedOptions } from '../support/slackSign.js';

/** Only requests signed with the app's signing secret, within five minutes, reach a handler. */
describe('Slack request signatures', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await startTestBot({ worker: false });
  });
  afterEach(async () => {
    await bot.close();
  });

  const body = () => slashCommandBody({ text: `data clear-embeddings --supplier ${SUPPLIER_A}`, response_url: bot.slack.responseUrl('forged') });
  const now = () => Math.floor(Date.now() / 1000);
  const send = (raw: string, opts: PostSignedOptions) => postSigned(`${bot.url}/slack/events`, SIGNING_SECRET, raw, opts);

  it('answers 401 to every forgery and stores nothing', async () => {
    const raw = body();
    const ts = now();
    const good = signSlack(SIGNING_SECRET, ts, raw);
    const flipped = good.slice(0, -1) + (good.endsWith('0') ? '1' : '0');
    const forgeries: Array<[string, string, PostSignedOptions]> = [
      ['one hex digit changed', raw, { timestamp: ts, signature: flipped }],
      ['body changed after signing', raw.replace('clear-embeddings', 'clear-embeddingz'), { timestamp: ts, signature: good }],
      ['signed with another secret', raw, { timestamp: ts, signature: signSlack('not-the-signing-secret', ts, raw) }],
      ['v1= instead of v0=', raw, { timestamp: ts, signature: good.replace(/^v0=/, 'v1=') }],
      ['signature too short', raw, { timestamp: ts, signature: good.slice(0, 20) }],
      ['signature too long', raw, { timestamp: ts, signature: `${good}00` }],
      ['no signature header', raw, { timestamp: ts, signature: null }],
      ['no timestamp header', raw, { timestamp: null, signature: good }],
      ['timestamp 301 s old, correctly signed', raw, { timestamp: ts - 301 }],
    ];
    for (const [what, rawBody, opts] of forgeries) {
      const res = await send(rawBody, opts);
      expect(res.status, what).toBe(401);
    }
    expect(await requestCount(bot)).toBe(0);
    expect(await auditActions(bot)).toEqual([]);
    expect(bot.slack.calls).toHaveLength(0);

    // The same command, correctly signed, is accepted: the refusals above were the signature's doing.
    const ok = await send(raw, {});
    expect(ok.status).toBe(200);
    await bot.slack.waitFor((c) => c.method === 'response_url' && c.responseId === 'forged');
    expect(await requestCount(bot)).toBe(1);
    expect(await auditActions(bot)).toEqual(['requested']);
  });
});
