/**
 * One place for the bot's failure vocabulary. Every error that reaches a person or the audit trail
 * is an AppError with a stable code; `coerceError` turns anything thrown into one.
 */
export const ErrorCode = {
  BadInput: 'bad_input',
  Config: 'config',
  NotAllowed: 'not_allowed',
  NotFound: 'not_found',
  Conflict: 'conflict',
  Expired: 'expired',
  PlanChanged: 'plan_changed',
  Precondition: 'precondition',
  StepFailed: 'step_failed',
  Timeout: 'timeout',
  Cancelled: 'cancelled',
  LockBusy: 'lock_busy',
  Transient: 'transient',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Codes that are worth another try; everything else is final where it is thrown. */
const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set([ErrorCode.Transient, ErrorCode.LockBusy]);

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }
  get retryable(): boolean {
    return RETRYABLE_CODES.has(this.code);
  }
}

export const badInput = (message: string, details: Record<string, unknown> = {}) =>
  new AppError(ErrorCode.BadInput, message, details);

/** PostgreSQL SQLSTATEs and Node socket errors that mean "try again", not "this is wrong". */
const TRANSIENT_PG_CODES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available (lock_timeout)
  '57P01', // admin_shutdown
  '08000', '08003', '08006', '08001', '08004',
]);
const TRANSIENT_NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

export function coerceError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && (TRANSIENT_PG_CODES.has(code) || TRANSIENT_NODE_CODES.has(code))) {
      return new AppError(ErrorCode.Transient, err.message, { cause: code }, { cause: err });
    }
    return new AppError(ErrorCode.Internal, err.message, {}, { cause: err });
  }
  return new AppError(ErrorCode.Internal, String(err));
}
