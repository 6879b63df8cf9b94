import { z } from 'zod';
import { AppError, ErrorCode } from '../errors.js';
import { registerSecret } from '../redact.js';

const url = (name: string, protocols: readonly string[] = ['http:', 'https:'], example = 'http://host:port') =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `${name} must be a ${protocols.map((p) => p.replace(':', '://')).join(' or ')} URL (e.g. ${example})`);
const pgUrl = (name: string) => url(name, ['postgres:', 'postgresql:'], 'postgresql://user@host:5432/db');
const redisUrl = (name: string) => url(name, ['redis:', 'rediss:'], 'redis://host:6379/0');

const EnvSchema = z.object({
  SLACK_BOT_TOKEN: z.string().startsWith('xox', 'SLACK_BOT_TOKEN must be a bot token (xoxb-…)').optional(),
  SLACK_SIGNING_SECRET: z.string().min(8, 'SLACK_SIGNING_SECRET looks too short').optional(),
  SLACK_APP_TOKEN: z.string().startsWith('xapp-', 'SLACK_APP_TOKEN must be an app-level token (xapp-…)').optional(),
  SLACK_API_URL: url('SLACK_API_URL').optional(),
  DATABASE_URL: pgUrl('DATABASE_URL').default('postgresql://postgres@127.0.0.1:5432/marketbel'),
  STATE_DATABASE_URL: pgUrl('STATE_DATABASE_URL').optional(),
  STATE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'STATE_SCHEMA must be a plain lower-case identifier').default('ml_rollback'),
  REDIS_URL: redisUrl('REDIS_URL').default('redis://127.0.0.1:6379'),
  TARGET_REDIS_URL: redisUrl('TARGET_REDIS_URL').optional(),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/, 'QUEUE_PREFIX may hold letters, digits, _ and -').default('ml-rollback'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3100),
  ALERT_WEBHOOK_TOKEN: z.string().min(16, 'ALERT_WEBHOOK_TOKEN must be at least 16 characters').optional(),
  ML_ROLLBACK_CONFIG: z.string().optional(),
  ML_ANALYZE_URL: url('ML_ANALYZE_URL').default('http://localhost:8001'),
  BUN_API_URL: url('BUN_API_URL').default('http://localhost:3000'),
  FRONTEND_URL: url('FRONTEND_URL').default('http://localhost:5173'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  PROGRESS_INTERVAL_MS: z.coerce.number().int().min(0).default(3000),
});

export type SlackMode = 'http' | 'socket' | 'none';

export interface EnvConfig {
  readonly slack: {
    readonly mode: SlackMode;
    readonly botToken?: string;
    readonly signingSecret?: string;
    readonly appToken?: string;
    readonly apiUrl?: string;
  };
  readonly databaseUrl: string;
  readonly stateDatabaseUrl: string;
  readonly stateSchema: string;
  readonly redisUrl: string;
  readonly targetRedisUrl: string;
  readonly queuePrefix: string;
  readonly port: number;
  readonly alertWebhookToken?: string;
  readonly configFile?: string;
  readonly serviceUrls: { readonly mlAnalyze: string; readonly bunApi: string; readonly frontend: string };
  readonly logLevel: string;
  readonly progressIntervalMs: number;
}

/** Reads the environment exactly once; fails with a message naming each wrong variable. */
export function loadEnv(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(clean);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new AppError(ErrorCode.Config, `invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  let mode: SlackMode = 'none';
  if (e.SLACK_BOT_TOKEN) {
    if (e.SLACK_APP_TOKEN) mode = 'socket';
    else if (e.SLACK_SIGNING_SECRET) mode = 'http';
    else {
      throw new AppError(
        ErrorCode.Config,
        'invalid configuration:\n  SLACK_SIGNING_SECRET: required with SLACK_BOT_TOKEN in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
      );
    }
  }
  for (const s of [e.SLACK_BOT_TOKEN, e.SLACK_SIGNING_SECRET, e.SLACK_APP_TOKEN, e.ALERT_WEBHOOK_TOKEN]) registerSecret(s);
  // Connection-string passwords are masked even where they appear alone (pasted into a command, an error).
  for (const u of [e.DATABASE_URL, e.STATE_DATABASE_URL, e.REDIS_URL, e.TARGET_REDIS_URL]) registerSecret(u ? decodeURIComponent(new URL(u).password) : undefined);
  return Object.freeze({
    slack: Object.freeze({
      mode,
      ...(e.SLACK_BOT_TOKEN ? { botToken: e.SLACK_BOT_TOKEN } : {}),
      ...(e.SLACK_SIGNING_SECRET ? { signingSecret: e.SLACK_SIGNING_SECRET } : {}),
      ...(e.SLACK_APP_TOKEN ? { appToken: e.SLACK_APP_TOKEN } : {}),
      ...(e.SLACK_API_URL ? { apiUrl: e.SLACK_API_URL.endsWith('/') ? e.SLACK_API_URL : `${e.SLACK_API_URL}/` } : {}),
    }),
    databaseUrl: e.DATABASE_URL,
    stateDatabaseUrl: e.STATE_DATABASE_URL ?? e.DATABASE_URL,
    stateSchema: e.STATE_SCHEMA,
    redisUrl: e.REDIS_URL,
    targetRedisUrl: e.TARGET_REDIS_URL ?? e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    port: e.PORT,
    ...(e.ALERT_WEBHOOK_TOKEN ? { alertWebhookToken: e.ALERT_WEBHOOK_TOKEN } : {}),
    ...(e.ML_ROLLBACK_CONFIG ? { configFile: e.ML_ROLLBACK_CONFIG } : {}),
    serviceUrls: Object.freeze({ mlAnalyze: e.ML_ANALYZE_URL, bunApi: e.BUN_API_URL, frontend: e.FRONTEND_URL }),
    logLevel: e.LOG_LEVEL,
    progressIntervalMs: e.PROGRESS_INTERVAL_MS,
  });
}
