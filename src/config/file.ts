import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AppError, ErrorCode } from '../errors.js';

// Slack user ids (U…/W…), user group ids (S…), or plain names (console).
const userIds = z.array(z.string().regex(/^[UW][A-Z0-9]{2,}$|^S[A-Z0-9]{2,}$|^[a-z0-9._-]+$/i));
const userList = userIds.default([]);

// A per-procedure rule overrides only what it names: no defaults here, or an absent list would
// silently replace the global one with "anyone".
const RuleSchema = z
  .object({
    requesters: userIds.optional(),
    approvers: userIds.optional(),
    approvals: z.number().int().min(1).max(5).optional(),
    allowSelfApproval: z.boolean().optional(),
    emergency: z.boolean().optional(),
  })
  .strict();

const FileSchema = z
  .object({
    channels: z.array(z.string().min(1)).min(1).default(['ml-analyze']),
    policy: z
      .object({
        expiryMinutes: z.number().int().min(1).max(24 * 60).default(30),
        requesters: userList,
        approvers: userList,
        approvals: z.number().int().min(1).max(5).default(1),
        emergency: z.boolean().default(false),
        procedures: z.record(z.string(), RuleSchema).default({}),
      })
      .strict()
      .default({ expiryMinutes: 30, requesters: [], approvers: [], approvals: 1, emergency: false, procedures: {} }),
    targets: z
      .object({
        redis: z
          .object({
            jobPattern: z.string().default('ml-analyze:job:*'),
            queueKeys: z.array(z.string()).default(['arq:queue:ml-analyze']),
            batchSize: z.number().int().min(1).max(10_000).default(500),
          })
          .strict()
          .default({ jobPattern: 'ml-analyze:job:*', queueKeys: ['arq:queue:ml-analyze'], batchSize: 500 }),
        compose: z
          .object({
            command: z.enum(['auto', 'docker compose', 'docker-compose']).default('auto'),
            file: z.string().optional(),
            projectDirectory: z.string().optional(),
            service: z.string().regex(/^[a-zA-Z0-9._-]+$/).default('ml-analyze'),
            tagVariable: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).default('ML_ANALYZE_TAG'),
            previousTag: z.string().optional(),
          })
          .strict()
          .default({ command: 'auto', service: 'ml-analyze', tagVariable: 'ML_ANALYZE_TAG' }),
        kubernetes: z
          .object({
            deployment: z.string().regex(/^[a-z0-9.-]+$/).default('ml-analyze'),
            namespace: z.string().regex(/^[a-z0-9-]+$/).optional(),
            context: z.string().optional(),
          })
          .strict()
          .default({ deployment: 'ml-analyze' }),
        alembic: z
          .object({
            directory: z.string().default('services/python-ingestion'),
            command: z.array(z.string()).optional(),
            prePhase7Revision: z.string().regex(/^[A-Za-z0-9_]+$/).default('006'),
          })
          .strict()
          .default({ directory: 'services/python-ingestion', prePhase7Revision: '006' }),
        binPath: z.array(z.string()).default([]),
      })
      .strict()
      .default({
        redis: { jobPattern: 'ml-analyze:job:*', queueKeys: ['arq:queue:ml-analyze'], batchSize: 500 },
        compose: { command: 'auto', service: 'ml-analyze', tagVariable: 'ML_ANALYZE_TAG' },
        kubernetes: { deployment: 'ml-analyze' },
        alembic: { directory: 'services/python-ingestion', prePhase7Revision: '006' },
        binPath: [],
      }),
    data: z
      .object({
        batchSize: z.number().int().min(1).max(100_000).default(1000),
        lockTimeoutMs: z.number().int().min(100).max(60_000).default(2000),
        timeZone: z.string().default('UTC'),
      })
      .strict()
      .default({ batchSize: 1000, lockTimeoutMs: 2000, timeZone: 'UTC' }),
    backups: z.object({ directory: z.string().default('backups') }).strict().default({ directory: 'backups' }),
    steps: z
      .object({ timeoutSeconds: z.number().int().min(1).max(3600).default(300) })
      .strict()
      .default({ timeoutSeconds: 300 }),
    alerts: z.record(z.string(), z.enum(['P1', 'P2', 'P3', 'P4'])).default({}),
    incidents: z
      .object({
        /** Where monitoring announces incidents (id or name); defaults to the first allowed channel. */
        channel: z.string().min(1).optional(),
        /** Response times by severity, overriding the runbook's 15 min / 1 h / 4 h. P4 uses business hours. */
        responseSeconds: z.object({ P1: z.number().positive(), P2: z.number().positive(), P3: z.number().positive() }).partial().strict().default({}),
        businessHours: z
          .object({
            timeZone: z
              .string()
              .refine((tz) => {
                try {
                  new Intl.DateTimeFormat('en-US', { timeZone: tz });
                  return true;
                } catch {
                  return false;
                }
              }, 'unknown time zone (use an IANA name such as Europe/Berlin)')
              .default('UTC'),
            start: z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'start must be HH:MM').default('09:00'),
            days: z.array(z.number().int().min(0).max(6)).min(1).default([1, 2, 3, 4, 5]),
          })
          .strict()
          .prefault({}),
        monitor: z
          .object({
            intervalMs: z.number().int().min(100).default(30_000),
            failures: z.number().int().min(2).max(100).default(2),
            timeoutMs: z.number().int().min(100).max(60_000).default(5000),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type FileConfig = z.infer<typeof FileSchema>;
export type ProcedureRule = z.infer<typeof RuleSchema>;

/** The policy-and-targets file; absent means the documented defaults. */
export function loadFileConfig(path: string | undefined): FileConfig {
  let raw: unknown = {};
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new AppError(ErrorCode.Config, `ML_ROLLBACK_CONFIG: cannot read ${path}: ${(err as Error).message}`);
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (err) {
      throw new AppError(ErrorCode.Config, `ML_ROLLBACK_CONFIG: ${path} is not valid YAML: ${(err as Error).message}`);
    }
  }
  return parseFileConfig(raw, path ?? '(defaults)');
}

export function parseFileConfig(raw: unknown, source = '(inline)'): FileConfig {
  const parsed = FileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new AppError(ErrorCode.Config, `ML_ROLLBACK_CONFIG ${source} is invalid:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
