import { AppError, ErrorCode } from '../../errors.js';
import type { Deps } from '../types.js';
import { runTool } from './run.js';

/** `kubectl [--context C] [-n NS]`: the configured cluster, never the operator's current context by accident. */
export function kubectlBase(deps: Pick<Deps, 'config'>): string[] {
  const k = deps.config.targets.kubernetes;
  return ['kubectl', ...(k.context ? ['--context', k.context] : []), ...(k.namespace ? ['-n', k.namespace] : [])];
}

export const deploymentRef = (deps: Pick<Deps, 'config'>) => `deployment/${deps.config.targets.kubernetes.deployment}`;

export interface Revision {
  readonly revision: number;
  readonly changeCause: string;
}

export async function rolloutHistory(deps: Pick<Deps, 'exec' | 'config'>, signal?: AbortSignal): Promise<{ revisions: Revision[]; text: string }> {
  const r = await runTool(deps, [...kubectlBase(deps), 'rollout', 'history', deploymentRef(deps)], { timeoutMs: 30_000, ...(signal ? { signal } : {}) }, 'kubectl rollout history');
  const revisions = [...r.stdout.matchAll(/^(\d+)\s+(.*)$/gm)].map((m) => ({ revision: Number(m[1]), changeCause: (m[2] ?? '').trim() }));
  return { revisions, text: r.stdout.trim() };
}

export async function revisionImage(deps: Pick<Deps, 'exec' | 'config'>, revision: number): Promise<string | null> {
  const r = await runTool(deps, [...kubectlBase(deps), 'rollout', 'history', deploymentRef(deps), `--revision=${revision}`], { timeoutMs: 30_000 }, 'kubectl rollout history');
  return /^\s*Image:\s*(\S+)/m.exec(r.stdout)?.[1] ?? null;
}

/** What is deployed now: the revision annotation and the first container's image. */
export async function deploymentState(deps: Pick<Deps, 'exec' | 'config'>, signal?: AbortSignal): Promise<{ revision: number; image: string }> {
  const r = await runTool(deps, [...kubectlBase(deps), 'get', deploymentRef(deps), '-o', 'json'], { timeoutMs: 30_000, ...(signal ? { signal } : {}) }, 'kubectl get');
  try {
    const d = JSON.parse(r.stdout) as { metadata?: { annotations?: Record<string, string> }; spec?: { template?: { spec?: { containers?: Array<{ image?: string }> } } } };
    const revision = Number(d.metadata?.annotations?.['deployment.kubernetes.io/revision']);
    const image = d.spec?.template?.spec?.containers?.[0]?.image ?? '';
    if (!Number.isInteger(revision)) throw new Error('no revision annotation');
    return { revision, image };
  } catch (err) {
    throw new AppError(ErrorCode.StepFailed, `cannot read the deployment's revision from kubectl get: ${(err as Error).message}`, { tail: r.tail });
  }
}
