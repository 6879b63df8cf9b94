import { createHash } from 'node:crypto';
import type { Plan } from './types.js';

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as Record<string, unknown>)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** What an approval is bound to: the procedure, its arguments and every step exactly as shown. */
export function planHash(plan: Plan): string {
  const { procedure, args, steps } = plan;
  return createHash('sha256').update(JSON.stringify(canonical({ procedure, args, steps }))).digest('hex');
}
