import { AppError, ErrorCode } from '../../errors.js';
import { deploymentState } from '../targets/kubectl.js';
import { lastLine } from '../targets/run.js';
import type { Executor } from '../types.js';

/**
 * `kubectl rollout undo`, then proof that it happened: the revision must move and the image must
 * be the planned one. `undo` can exit 0 and change nothing, so the exit code alone proves nothing.
 */
export const k8sUndo: Executor = async (params, ctx) => {
  const argv = Array.isArray(params.argv) ? params.argv.map(String) : [];
  const r = await ctx.exec(argv, { timeoutMs: ctx.step.timeoutMs, signal: ctx.signal });
  if (r.exitCode !== 0) throw new AppError(ErrorCode.StepFailed, `kubectl rollout undo exited ${r.exitCode}: ${lastLine(r.tail)}`, { tail: r.tail, exitCode: r.exitCode });
  const fromRevision = Number(params.fromRevision);
  const fromImage = String(params.fromImage);
  const targetImage = typeof params.targetImage === 'string' ? params.targetImage : null;
  const now = await deploymentState(ctx, ctx.signal);
  const evidence = `${lastLine(r.tail)}; deployment now at revision ${now.revision}, image ${now.image}`;
  if (now.revision === fromRevision || now.image === fromImage || (targetImage && now.image !== targetImage)) {
    throw new AppError(
      ErrorCode.StepFailed,
      `kubectl rollout undo exited 0 but the rollback did not happen: ${evidence} (was revision ${fromRevision}, ${fromImage}${targetImage ? `; expected ${targetImage}` : ''}). Check the deployment by hand.`,
      { tail: `${r.tail}\n${evidence}`, exitCode: 0 },
    );
  }
  return { summary: `rolled back: revision ${fromRevision} → ${now.revision}, image ${fromImage} → ${now.image}`, exitCode: 0, output: r.tail };
};
