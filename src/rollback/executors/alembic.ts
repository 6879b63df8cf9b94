import { AppError, ErrorCode } from '../../errors.js';
import { alembic, alembicCurrent } from '../targets/alembic.js';
import { lastLine } from '../targets/run.js';
import type { Executor } from '../types.js';

/** `alembic downgrade TARGET`, then `alembic current` must say TARGET: the outcome, not the exit code. */
export const alembicDowngrade: Executor = async (params, ctx) => {
  const target = String(params.target);
  const r = await alembic(ctx, ['downgrade', target], { timeoutMs: ctx.step.timeoutMs, signal: ctx.signal });
  if (r.exitCode !== 0) throw new AppError(ErrorCode.StepFailed, `alembic downgrade ${target} exited ${r.exitCode}: ${lastLine(r.tail)}`, { tail: r.tail, exitCode: r.exitCode });
  const current = await alembicCurrent(ctx, ctx.signal);
  const expected = target === 'base' ? [] : [target];
  if (current.join(',') !== expected.join(',')) {
    throw new AppError(ErrorCode.StepFailed, `alembic downgrade exited 0 but alembic current says ${current.join(', ') || '(none)'}, not ${target}`, { tail: r.tail });
  }
  return { summary: `downgraded ${String(params.expectCurrent)} → ${target}; alembic current: ${current.join(', ') || '(base)'}`, exitCode: 0, output: r.tail };
};
