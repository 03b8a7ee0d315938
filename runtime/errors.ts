// The node's errors: a stable code from the one error table (replication/support/error-table.ts),
// which also gives the HTTP status and whose fault it is. Statuses are never derived from text.

import { ERROR_TABLE, isErrorCode, type Blame, type ErrorCode } from '../replication/support/error-table.js';

export { ERROR_TABLE, isErrorCode, type Blame, type ErrorCode };

/** An error with a stable code; `details` is safe to show to the caller. */
export class EnokiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'EnokiError';
  }

  get status(): number {
    return ERROR_TABLE[this.code].http;
  }

  get blame(): Blame {
    return ERROR_TABLE[this.code].blame;
  }

  toJSON(): { error: { code: ErrorCode; message: string; blame: Blame } & Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, blame: this.blame, ...this.details } };
  }
}

/** Wraps anything thrown into an EnokiError, keeping codes of known errors. */
export function toEnokiError(err: unknown): EnokiError {
  if (err instanceof EnokiError) return err;
  const code = (err as { code?: unknown })?.code;
  if (isErrorCode(code)) return new EnokiError(code, (err as Error).message);
  return new EnokiError('ERR_INTERNAL', err instanceof Error ? err.message : String(err));
}
