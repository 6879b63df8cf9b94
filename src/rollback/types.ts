import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { Exec } from './exec.js';
import type { FileConfig } from '../config/index.js';

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
export type Risk = 'read-only' | 'reversible' | 'destructive';

const RISK_ORDER: Record<Risk, number> = { 'read-only': 0, reversible: 1, destructive: 2 };
export const maxRisk = (risks: Risk[]): Risk =>
  risks.reduce<Risk>((a, b) => (RISK_ORDER[b] > RISK_ORDER[a] ? b : a), 'read-only');

/**
 * A step is data: what the plan shows and the hash covers. Its behaviour lives in the executor
 * registered under `kind`, so a stored plan can be run by any worker, after any restart.
 */
export interface StepSpec {
  readonly id: string;
  readonly kind: string;
  readonly title: string;
  readonly risk: Risk;
  /** Safe to run again after a crash mid-step. */
  readonly idempotent: boolean;
  readonly timeoutMs: number;
  readonly params: { readonly [k: string]: Json };
  /** The exact argv / SQL / key patterns, for people to read before approving. */
  readonly shows: readonly string[];
  /** How to undo this step (offered to a human, never run automatically). */
  readonly inverse?: string;
}

export interface PreviewLine {
  readonly label: string;
  readonly value: string;
}

export interface Plan {
  readonly procedure: string;
  readonly args: { readonly [k: string]: Json };
  readonly title: string;
  readonly risk: Risk;
  readonly steps: readonly StepSpec[];
  readonly preview: readonly PreviewLine[];
  /** Where the bot deliberately departs from the runbook's text, and why. */
  readonly notes: readonly string[];
}

export interface StepResult {
  readonly summary: string;
  readonly rows?: number;
  readonly keys?: number;
  readonly exitCode?: number;
  readonly output?: string;
  /** Checklist-style evidence lines (✅/❌/check by hand). */
  readonly checks?: readonly CheckResult[];
  readonly backup?: { readonly id: string; readonly file?: string; readonly table?: string; readonly rows: number };
  /** A step that completed but found the system unhealthy. */
  readonly failed?: boolean;
}

export interface CheckResult {
  readonly name: string;
  readonly status: 'ok' | 'fail' | 'manual';
  readonly evidence: string;
}

/** What the planner and executors may touch. Nothing else: no env, no global clients. */
export interface Deps {
  readonly db: pg.Pool;
  readonly redis: Redis;
  readonly exec: Exec;
  readonly config: FileConfig;
  readonly serviceUrls: { readonly mlAnalyze: string; readonly bunApi: string; readonly frontend: string };
  readonly databaseUrl: string;
  readonly fetch: typeof fetch;
  readonly now: () => Date;
  readonly log: Logger;
  /** The backups the bot recorded (for `restore`); absent where there is no state store. */
  readonly backups?: () => Promise<readonly BackupRecord[]>;
}

export interface BackupRecord {
  readonly id: string;
  readonly requestId: string;
  readonly kind: string;
  readonly source: string;
  readonly location: string;
  readonly rows: number;
  readonly createdAt: Date;
}

export interface StepContext extends Deps {
  readonly requestId: string;
  readonly signal: AbortSignal;
  readonly step: StepSpec;
  /** A line of progress inside a long step (coalesced by the notifier). */
  readonly progress: (text: string) => void;
}

export type Executor = (params: StepSpec['params'], ctx: StepContext) => Promise<StepResult>;
