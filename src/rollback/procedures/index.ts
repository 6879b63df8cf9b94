import { AppError, ErrorCode } from '../../errors.js';
import type { ProcedureName } from '../command.js';
import type { Deps, Json, Plan } from '../types.js';
import { planClearEmbeddings } from './data.js';
import { planRedisClearJobs } from './redis.js';
import { planVerify } from './verify.js';

type Planner = (deps: Deps, args: { readonly [k: string]: Json }) => Promise<Plan>;

const PLANNERS: Partial<Record<ProcedureName, Planner>> = {
  verify: (deps) => planVerify(deps),
  'redis clear-jobs': (deps) => planRedisClearJobs(deps),
  'data clear-embeddings': (deps, args) => planClearEmbeddings(deps, typeof args.supplier === 'string' ? { supplier: args.supplier } : {}),
};

/** Builds the plan for a validated procedure: steps, exact commands and a preview of real counts. */
export async function planProcedure(deps: Deps, procedure: ProcedureName, args: { readonly [k: string]: Json }): Promise<Plan> {
  const planner = PLANNERS[procedure];
  if (!planner) throw new AppError(ErrorCode.BadInput, `${procedure} is not available in this version of ml-rollback`);
  return planner(deps, args);
}
