import { describe, expect, it } from 'vitest';
import { redact, registerSecret } from '../../src/redact.js';

describe('redact', () => {
  it.each([
    ['postgres URL', 'connect postgres://marketbel:s3cr3t-pw@db:5432/marketbel failed', 'connect postgres://marketbel:[REDACTED]@db:5432/marketbel failed', 's3cr3t-pw'],
    ['postgresql URL', 'DATABASE_URL=postgresql://u:p%40ss@h/db', 'DATABASE_URL=postgresql://u:[REDACTED]@h/db', 'p%40ss'],
    ['redis URL without user', 'redis://:hunter2hunter2@redis:6379/0', 'redis://:[REDACTED]@redis:6379/0', 'hunter2hunter2'],
    ['bot token', 'token xoxb-1234-5678-abcdefABCDEF rejected', 'token [REDACTED] rejected', 'xoxb-1234'],
    ['app token', 'SLACK_APP_TOKEN xapp-1-A0B1-12345-deadbeef', 'SLACK_APP_TOKEN [REDACTED]', 'xapp-1'],
    ['user token', 'xoxp-1-2-3-abc', '[REDACTED]', 'xoxp'],
    ['Bearer header', 'Authorization: Bearer eyJhbGciOi.payload.sig', 'Authorization: Bearer [REDACTED]', 'eyJhbGciOi'],
    ['password=', 'psql: password=topsecret host=db', 'psql: password=[REDACTED] host=db', 'topsecret'],
    ['PASSWORD: quoted', 'PASSWORD: "two words"', 'PASSWORD: [REDACTED]', 'two words'],
    ['redis-cli -a', 'redis-cli -a hunter2 KEYS ml-analyze:job:*', 'redis-cli -a [REDACTED] KEYS ml-analyze:job:*', 'hunter2'],
  ])('%s', (_what, input, expected, secret) => {
    const out = redact(input);
    expect(out).toBe(expected);
    expect(out).not.toContain(secret);
  });

  it('leaves URLs without credentials and ordinary text alone', () => {
    const text = 'GET http://localhost:8001/health → 200; postgres://db:5432/marketbel; 37 keys matching ml-analyze:job:*';
    expect(redact(text)).toBe(text);
  });

  it('masks registered literal secrets wherever they appear', () => {
    registerSecret('8f742231b10e8888abcd');
    expect(redact('signing secret 8f742231b10e8888abcd leaked twice: 8f742231b10e8888abcd')).toBe('signing secret [REDACTED] leaked twice: [REDACTED]');
  });

  it('ignores registered values too short to be secrets (they would mask ordinary words)', () => {
    registerSecret('abc');
    expect(redact('abc def')).toBe('abc def');
  });

  it('redacts every secret in a multi-line output tail', () => {
    const tail = ['pg_dump: connecting to postgres://admin:pw1234@db/marketbel', 'retry with token=xoxb-9-9-zzz', 'ok'].join('\n');
    const out = redact(tail);
    expect(out).not.toMatch(/pw1234|xoxb-9/);
    expect(out.split('\n')).toHaveLength(3);
  });
});
