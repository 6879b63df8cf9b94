import type { Deps, Plan } from '../types.js';
import { checklistStep } from './common.js';

export async function planVerify(deps: Deps): Promise<Plan> {
  return {
    procedure: 'verify',
    args: {},
    title: 'Health verification checklist',
    risk: 'read-only',
    steps: [checklistStep(deps)],
    preview: [{ label: 'Touches', value: 'nothing: read-only checks, no approval needed' }],
    notes: [],
  };
}
