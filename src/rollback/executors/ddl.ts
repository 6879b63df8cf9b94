import { extensionDependents } from '../targets/extension.js';
import type { Executor } from '../types.js';
import { shortTransaction } from './pg.js';

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
const ident = (v: unknown): string => {
  const s = String(v);
  if (!IDENT.test(s)) throw new Error(`not an identifier: ${s}`);
  return s;
};

/** DROP TABLE IF EXISTS, no CASCADE: anything still depending on the table makes it fail, loudly. */
export const pgDropTable: Executor = async (params, ctx) => {
  const table = ident(params.table);
  const { rows } = await ctx.db.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`public.${table}`]);
  if (!rows[0]?.t) return { summary: `${table} does not exist (already dropped)`, rows: 0 };
  await shortTransaction(ctx, (q) => q(`DROP TABLE IF EXISTS public.${table}`, []), () => undefined);
  return { summary: `dropped table ${table}`, rows: 0 };
};

/**
 * DROP EXTENSION IF EXISTS, with CASCADE only when the plan listed the dependents and a person forced
 * it (their tables were dumped first). The prechecks refuse a dependent that appeared since the plan.
 */
export const pgDropExtension: Executor = async (params, ctx) => {
  const ext = ident(params.extension);
  const before = await extensionDependents(ctx, ext);
  if (before === null) return { summary: `extension ${ext} is not installed (already dropped)` };
  const cascade = params.cascade === true;
  await shortTransaction(ctx, (q) => q(`DROP EXTENSION IF EXISTS ${ext}${cascade ? ' CASCADE' : ''}`, []), () => undefined);
  return { summary: `dropped extension ${ext}${cascade ? ` with CASCADE (dropped: ${before.map((d) => d.object).join('; ') || 'nothing'})` : ''}` };
};
