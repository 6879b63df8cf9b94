import { pino, type Logger } from 'pino';
import { redact } from './redact.js';

export type { Logger };

/**
 * The root logger: JSON lines, secrets redacted by path and, for free text, by pattern.
 * Child loggers carry request id, user and step.
 */
export function createLogger(opts: { level?: string; destination?: pino.DestinationStream; name?: string } = {}): Logger {
  return pino(
    {
      name: opts.name ?? 'ml-rollback',
      level: opts.level ?? 'info',
      redact: {
        paths: [
          'token', '*.token', 'password', '*.password', 'authorization', '*.authorization',
          'headers.authorization', 'botToken', 'appToken', 'signingSecret', '*.signingSecret',
          'databaseUrl', 'stateDatabaseUrl', 'redisUrl', 'targetRedisUrl',
        ],
        censor: '[REDACTED]',
      },
      formatters: {
        log(obj) {
          return JSON.parse(redact(JSON.stringify(obj))) as Record<string, unknown>;
        },
      },
      hooks: {
        logMethod(args, method) {
          const redacted = args.map((a) => (typeof a === 'string' ? redact(a) : a)) as typeof args;
          method.apply(this, redacted);
        },
      },
    },
    opts.destination,
  );
}
