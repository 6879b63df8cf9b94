import { AppError, ErrorCode } from '../../errors.js';
import { composeBase, composeImage } from '../targets/compose.js';
import { deploymentRef, deploymentState, kubectlBase, revisionImage, rolloutHistory } from '../targets/kubectl.js';
import type { Deps, Json, Plan } from '../types.js';
import { checklistStep, seconds } from './common.js';
import { waitHealthyStep } from './health.js';

/**
 * `auto` means Kubernetes when targets.kubernetes names a context or a namespace, else Compose:
 * naming a cluster is the deliberate act; Compose is the runbook's first section.
 */
export function platformOf(deps: Deps, asked: Json | undefined): 'k8s' | 'compose' {
  if (asked === 'k8s' || asked === 'compose') return asked;
  const k = deps.config.targets.kubernetes;
  return k.context || k.namespace ? 'k8s' : 'compose';
}

export async function planContainer(deps: Deps, args: { readonly [k: string]: Json }): Promise<Plan> {
  return platformOf(deps, args.platform) === 'k8s'
    ? planK8s(deps, typeof args.toRevision === 'number' ? args.toRevision : undefined)
    : planCompose(deps, typeof args.tag === 'string' ? args.tag : undefined);
}

async function planCompose(deps: Deps, tagArg: string | undefined): Promise<Plan> {
  const c = deps.config.targets.compose;
  const tag = tagArg ?? c.previousTag;
  if (!tag) {
    throw new AppError(ErrorCode.Precondition, 'no image tag to roll back to: give --tag TAG (e.g. container --compose --tag 1.4.1) or set targets.compose.previousTag in the config');
  }
  const base = await composeBase(deps);
  const env = { [c.tagVariable]: tag };
  const running = await composeImage(deps, base);
  const shownEnv = `${c.tagVariable}=${tag}`;
  return {
    procedure: 'container',
    args: { platform: 'compose', tag },
    title: `Container rollback (Docker Compose): ${c.service} → tag ${tag}`,
    risk: 'reversible',
    steps: [
      {
        id: 'compose-pull', kind: 'command', title: `Fetch the image for tag ${tag} (before anything is stopped)`, risk: 'read-only', idempotent: true,
        timeoutMs: seconds(600), params: { argv: [...base, 'pull', c.service], env, notRunYet: `${c.service} was not stopped` },
        shows: [`${shownEnv} ${[...base, 'pull', c.service].join(' ')}`],
      },
      {
        id: 'compose-stop', kind: 'command', title: `Stop ${c.service}`, risk: 'reversible', idempotent: true,
        timeoutMs: seconds(120), params: { argv: [...base, 'stop', c.service] },
        shows: [[...base, 'stop', c.service].join(' ')], inverse: `${[...base, 'start', c.service].join(' ')}`,
      },
      {
        id: 'compose-up', kind: 'command', title: `Start ${c.service} on tag ${tag} without building`, risk: 'reversible', idempotent: true,
        timeoutMs: seconds(300), params: { argv: [...base, 'up', '-d', '--no-build', c.service], env, notRunYet: `${c.service} is stopped: start it with a tag that exists` },
        shows: [`${shownEnv} ${[...base, 'up', '-d', '--no-build', c.service].join(' ')}`],
        inverse: 'container --compose --tag <the tag that was running>',
      },
      waitHealthyStep(deps),
      checklistStep(deps),
    ],
    preview: [
      { label: 'Running now', value: running ?? `${c.service}: not found by compose ps` },
      { label: 'Rolls back to', value: `tag ${tag} through ${c.tagVariable}${tagArg ? '' : ' (targets.compose.previousTag)'}` },
      { label: 'Compose', value: base.slice(0, base[0] === 'docker' ? 2 : 1).join(' ') },
    ],
    notes: [
      'The runbook\'s `docker-compose pull ml-analyze:previous-tag` is not valid (pull takes service names): the bot sets the tag variable the compose file reads, pulls that image before stopping anything, then `up -d --no-build`.',
    ],
  };
}

async function planK8s(deps: Deps, toRevision: number | undefined): Promise<Plan> {
  const k = kubectlBase(deps);
  const ref = deploymentRef(deps);
  const { revisions, text } = await rolloutHistory(deps);
  const now = await deploymentState(deps);
  if (toRevision !== undefined && !revisions.some((r) => r.revision === toRevision)) {
    throw new AppError(ErrorCode.Precondition, `revision ${toRevision} is not in the rollout history of ${ref} (revisions: ${revisions.map((r) => r.revision).join(', ') || 'none'}); nothing was planned`);
  }
  if (toRevision === now.revision) throw new AppError(ErrorCode.Precondition, `${ref} is already at revision ${toRevision}`);
  const target = toRevision ?? revisions.map((r) => r.revision).filter((r) => r !== now.revision).sort((a, b) => b - a)[0];
  if (target === undefined) throw new AppError(ErrorCode.Precondition, `${ref} has no earlier revision to roll back to`);
  const targetImage = await revisionImage(deps, target);
  if (targetImage === now.image) throw new AppError(ErrorCode.Precondition, `revision ${target} runs the same image as now (${now.image}): an undo would change nothing`);
  const undo = [...k, 'rollout', 'undo', ref, ...(toRevision !== undefined ? [`--to-revision=${toRevision}`] : [])];
  const statusTimeout = Math.max(30, Math.min(600, deps.config.steps.timeoutSeconds));
  const status = [...k, 'rollout', 'status', ref, `--timeout=${statusTimeout}s`];
  return {
    procedure: 'container',
    args: { platform: 'k8s', ...(toRevision !== undefined ? { toRevision } : {}) },
    title: `Container rollback (Kubernetes): ${ref} from revision ${now.revision} back to the image of revision ${target}`,
    risk: 'reversible',
    steps: [
      {
        id: 'k8s-undo', kind: 'k8s-undo', title: `kubectl rollout undo${toRevision !== undefined ? ` --to-revision=${toRevision}` : ''}, then check the revision and image changed`,
        risk: 'reversible', idempotent: false, timeoutMs: seconds(60),
        params: { argv: undo, fromRevision: now.revision, fromImage: now.image, ...(targetImage ? { targetImage } : {}) },
        shows: [undo.join(' '), `${[...k, 'get', ref, '-o', 'json'].join(' ')} → revision must leave ${now.revision}, image must become ${targetImage ?? '(the previous one)'}`],
        inverse: `${[...k, 'rollout', 'undo', ref].join(' ')} (back to the image ${now.image})`,
      },
      {
        id: 'k8s-status', kind: 'command', title: `kubectl rollout status (timeout ${statusTimeout} s)`, risk: 'read-only', idempotent: true,
        timeoutMs: seconds(statusTimeout + 15), params: { argv: status }, shows: [status.join(' ')],
      },
      waitHealthyStep(deps),
      checklistStep(deps),
    ],
    preview: [
      { label: 'Rollout history', value: text },
      { label: 'Now', value: `revision ${now.revision}, image ${now.image}` },
      { label: 'After', value: `image ${targetImage ?? '?'} (from revision ${target}; Kubernetes records it as a new revision)` },
    ],
    notes: ['`kubectl rollout undo` can exit 0 without rolling back: the step checks the deployment\'s revision and image afterwards and fails if they did not change.'],
  };
}
