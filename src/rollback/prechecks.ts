import { countSelection } from './procedures/data.js';
import type { SelectionName } from './selections.js';
import { alembicCurrent, alembicHeads } from './targets/alembic.js';
import { extensionDependents } from './targets/extension.js';
import { deploymentState } from './targets/kubectl.js';
import type { Deps, StepSpec } from './types.js';

/**
 * A step's premise, checked when the plan is made (the planner reads the same state) and again
 * right before the step runs. Returns what changed, or null. The world may have moved between
 * approval and run: other row counts, another revision, a new object depending on the extension.
 */
type Precheck = (deps: Deps, step: StepSpec) => Promise<string | null>;

/** Any step carrying `expectRows` with a `selection`: the rows it will touch are still the rows shown. */
const rowCount: Precheck = async (deps, step) => {
  const expect = step.params.expectRows;
  const sel = step.params.selection;
  if (typeof expect !== 'number' || typeof sel !== 'string') return null;
  const now = await countSelection(deps, sel as SelectionName, step.params as Record<string, unknown>);
  return now === expect ? null : `the plan expected ${expect} rows but there are now ${now}`;
};

const BY_KIND: Readonly<Record<string, Precheck>> = {
  'alembic-downgrade': async (deps, step) => {
    const [heads, now] = await Promise.all([alembicHeads(deps), alembicCurrent(deps)]);
    if (heads.length > 1) return `alembic now has ${heads.length} heads (${heads.join(', ')})`;
    const current = now.join(', ');
    const planned = String(step.params.expectCurrent);
    return current === planned ? null : `the database was at revision ${planned} when planned and is now at ${current || '(none)'}`;
  },
  'k8s-undo': async (deps, step) => {
    const now = await deploymentState(deps);
    const planned = Number(step.params.fromRevision);
    return now.revision === planned ? null : `the deployment was at revision ${planned} when planned and is now at ${now.revision} (${now.image})`;
  },
  'pg-drop-extension': async (deps, step) => {
    const planned = new Set(Array.isArray(step.params.expectDependents) ? step.params.expectDependents.map(String) : []);
    const now = (await extensionDependents(deps, String(step.params.extension))) ?? [];
    const fresh = now.filter((d) => !planned.has(d.object)).map((d) => d.object);
    return fresh.length ? `objects now depend on extension ${String(step.params.extension)} that the plan did not list: ${fresh.join('; ')}` : null;
  },
};

export async function precheckStep(deps: Deps, step: StepSpec): Promise<string | null> {
  try {
    return (await rowCount(deps, step)) ?? (await BY_KIND[step.kind]?.(deps, step)) ?? null;
  } catch (err) {
    // Not knowing the state is a reason to stop too.
    return `could not re-check the step's premise (${(err as Error).message})`;
  }
}
