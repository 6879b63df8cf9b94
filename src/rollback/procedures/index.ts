import { AppError, ErrorCode } from '../../errors.js';
import type { ProcedureName } from '../command.js';
import type { Deps, Json, Plan } from '../types.js';
import { planClearEmbeddings } from './data.js';
import { planContainer } from './container.js';
import { planClearReviewQueue, planRevertMatches } from './dataSince.js';
import { planFull } from './full.js';
import { planMigration } from './migration.js';
import { planRedisClearJobs } from './redis.js';
import { planRegenerate } from './regenerate.js';
import { planRestore } from './restore.js';
import { planVerify } from './verify.js';

type Planner = (deps: Deps, args: { readonly [k: string]: Json }) => Promise<Plan>;

const PLANNERS: Partial<Record<ProcedureName, Planner>> = {
  verify: (deps) => planVerify(deps),
  'redis clear-jobs': (deps) => planRedisClearJobs(deps),
  'data clear-embeddings': (deps, args) => planClearEmbeddings(deps, typeof args.supplier === 'string' ? { supplier: args.supplier } : {}),
  'data revert-matches': (deps, args) => planRevertMatches(deps, String(args.since)),
  'data clear-review-queue': (deps, args) => planClearReviewQueue(deps, String(args.since)),
  container: (deps, args) => planContainer(deps, args),
  migration: (deps, args) => planMigration(deps, args),
  full: (deps, args) => planFull(deps, args.forceExtension === true),
  regenerate: (deps, args) => planRegenerate(deps, typeof args.limit === 'number' ? args.limit : 1000),
  restore: (deps, args) => planRestore(deps, String(args.backup), typeof args.table === 'string' ? args.table : undefined),
};

/** Builds the plan for a validated procedure: steps, exact commands and a preview of real counts. */
export async function planProcedure(deps: Deps, procedure: ProcedureName, args: { readonly [k: string]: Json }): Promise<Plan> {
  const planner = PLANNERS[procedure];
  if (!planner) throw new AppError(ErrorCode.BadInput, `${procedure} is not available in this version of ml-rollback`);
  return planner(deps, args);
}
