import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { AppError } from '../../src/errors.js';

function failure(env: Record<string, string>): AppError {
  try {
    loadEnv(env);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('config');
    return err as AppError;
  }
  throw new Error('the environment was accepted');
}

describe('environment validation names what is wrong', () => {
  it.each([
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL: REDIS_URL must be a redis:// or rediss:// URL'],
    [{ DATABASE_URL: 'marketbel' }, 'DATABASE_URL: DATABASE_URL must be a postgres:// or postgresql:// URL'],
    [{ TARGET_REDIS_URL: '6379' }, 'TARGET_REDIS_URL'],
    [{ SLACK_API_URL: 'fake' }, 'SLACK_API_URL: SLACK_API_URL must be a http:// or https:// URL'],
    [{ SLACK_BOT_TOKEN: 'abc', SLACK_SIGNING_SECRET: 'longenoughsecret' }, 'SLACK_BOT_TOKEN must be a bot token'],
    [{ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xoxb-2' }, 'SLACK_APP_TOKEN must be an app-level token'],
    [{ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'short' }, 'SLACK_SIGNING_SECRET looks too short'],
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ ALERT_WEBHOOK_TOKEN: 'short' }, 'ALERT_WEBHOOK_TOKEN must be at least 16 characters'],
    [{ QUEUE_PREFIX: 'a:b' }, 'QUEUE_PREFIX'],
    [{ STATE_SCHEMA: 'ML-Rollback' }, 'STATE_SCHEMA'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
  ])('%j', (env, message) => {
    expect(failure(env).message).toContain(message);
  });

  it('a bot token without a signing secret or app token says which is missing', () => {
    const msg = failure({ SLACK_BOT_TOKEN: 'xoxb-1-2-3' }).message;
    expect(msg).toContain('SLACK_SIGNING_SECRET');
    expect(msg).toContain('SLACK_APP_TOKEN');
  });

  it('lists every wrong variable at once', () => {
    const msg = failure({ REDIS_URL: 'x', DATABASE_URL: 'y' }).message;
    expect(msg).toContain('REDIS_URL');
    expect(msg).toContain('DATABASE_URL');
  });

  it('never echoes a secret it refuses', () => {
    expect(failure({ SLACK_BOT_TOKEN: 'not-a-token-but-secret' }).message).not.toContain('not-a-token-but-secret');
  });
});

describe('environment defaults and modes', () => {
  it('without Slack credentials: console mode and the runbook URLs', () => {
    const e = loadEnv({});
    expect(e.slack.mode).toBe('none');
    expect(e.serviceUrls).toEqual({ mlAnalyze: 'http://localhost:8001', bunApi: 'http://localhost:3000', frontend: 'http://localhost:5173' });
    expect(e.stateDatabaseUrl).toBe(e.databaseUrl);
    expect(e.stateSchema).toBe('ml_rollback');
    expect(e.targetRedisUrl).toBe(e.redisUrl);
  });

  it('bot token + signing secret: HTTP mode; + app token: Socket Mode', () => {
    expect(loadEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'longenoughsecret' }).slack.mode).toBe('http');
    expect(loadEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1-x' }).slack.mode).toBe('socket');
  });

  it('empty variables count as unset, and SLACK_API_URL gains its trailing slash', () => {
    const e = loadEnv({ REDIS_URL: '', SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'longenoughsecret', SLACK_API_URL: 'http://127.0.0.1:9/api' });
    expect(e.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(e.slack.apiUrl).toBe('http://127.0.0.1:9/api/');
  });

  it('TARGET_REDIS_URL and STATE_DATABASE_URL override their defaults', () => {
    const e = loadEnv({ REDIS_URL: 'redis://q:6379/0', TARGET_REDIS_URL: 'redis://t:6379/2', STATE_DATABASE_URL: 'postgresql://s/state' });
    expect(e.targetRedisUrl).toBe('redis://t:6379/2');
    expect(e.stateDatabaseUrl).toBe('postgresql://s/state');
  });
});
