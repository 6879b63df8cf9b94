import type { Writable } from 'node:stream';
import { badInput } from '../errors.js';
import { parseInstant, REQUEST_ID_RE } from '../rollback/command.js';
import type { AuditRow, Store } from './store.js';

export const AUDIT_USAGE = 'ml-rollback audit [--since ISO_TIMESTAMP] [--request R-N]';

export interface AuditFilter {
  readonly since?: string;
  readonly requestId?: string;
}

/** `--since ISO` and `--request R-N`, validated like every other input; anything else is refused. */
export function parseAuditArgs(args: readonly string[]): AuditFilter {
  const out: { since?: string; requestId?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.includes('=') ? [args[i]!.slice(0, args[i]!.indexOf('=')), args[i]!.slice(args[i]!.indexOf('=') + 1)] : [args[i]!, undefined];
    const value = inline ?? args[++i];
    if (value === undefined) throw badInput(`${flag} needs a value\nusage: ${AUDIT_USAGE}`);
    if (flag === '--since') out.since = parseInstant(value);
    else if (flag === '--request' && REQUEST_ID_RE.test(value.toUpperCase())) out.requestId = value.toUpperCase();
    else throw badInput(`${flag === '--request' ? `${value} is not a request id` : `unknown option ${flag.slice(0, 40)}`}\nusage: ${AUDIT_USAGE}`);
  }
  return out;
}

/** The whole trail (or a slice), oldest first, in pages: an export never holds everything in memory. */
export async function* auditRows(store: Store, f: AuditFilter, pageSize = 1000): AsyncGenerator<AuditRow> {
  let after = 0;
  for (;;) {
    const { rows } = await store.pool.query<{ id: string; at: Date; request_id: string | null; incident_id: string | null; actor: string; action: string; detail: Record<string, unknown> }>(
      `SELECT * FROM ${store.schema}.audit
        WHERE id > $1 AND ($2::timestamptz IS NULL OR at >= $2) AND ($3::text IS NULL OR request_id = $3)
        ORDER BY id LIMIT $4`,
      [after, f.since ?? null, f.requestId ?? null, pageSize],
    );
    for (const r of rows) yield { id: Number(r.id), at: r.at, requestId: r.request_id, incidentId: r.incident_id, actor: r.actor, action: r.action, detail: r.detail };
    if (rows.length < pageSize) return;
    after = Number(rows[rows.length - 1]!.id);
  }
}

/** JSON lines on `out`; returns how many rows were written. */
export async function writeAuditJsonLines(store: Store, f: AuditFilter, out: Writable): Promise<number> {
  let n = 0;
  for await (const row of auditRows(store, f)) {
    if (!out.write(`${JSON.stringify(row)}\n`)) await new Promise((r) => out.once('drain', r));
    n++;
  }
  return n;
}
