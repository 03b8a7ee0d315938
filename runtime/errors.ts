// Stable error codes of the node: one table maps each to its HTTP status and to who is to blame.
// Statuses are never derived from message text.

export type Blame = 'client' | 'guest' | 'host';

export const ERROR_TABLE = {
  ERR_BAD_REQUEST: { status: 400, blame: 'client' },
  ERR_INVALID_NAME: { status: 400, blame: 'client' },
  ERR_INVALID_OPTION: { status: 400, blame: 'client' },
  ERR_UNAUTHORIZED: { status: 401, blame: 'client' },
  ERR_FUNCTION_NOT_FOUND: { status: 404, blame: 'client' },
  ERR_VERSION_NOT_FOUND: { status: 404, blame: 'client' },
  ERR_INVOCATION_NOT_FOUND: { status: 404, blame: 'client' },
  ERR_ROUTE_NOT_FOUND: { status: 404, blame: 'client' },
  ERR_KEYGROUP_NOT_FOUND: { status: 404, blame: 'client' },
  ERR_KEYGROUP_EXISTS: { status: 409, blame: 'client' },
  ERR_KEYGROUP_IN_USE: { status: 409, blame: 'client' },
  ERR_BODY_TOO_LARGE: { status: 413, blame: 'client' },
  ERR_NOT_WASM: { status: 422, blame: 'client' },
  ERR_NOT_COMPONENT: { status: 422, blame: 'client' },
  ERR_WRONG_WORLD: { status: 422, blame: 'client' },
  ERR_INVALID_COMPONENT: { status: 422, blame: 'client' },
  ERR_NO_PREVIOUS_VERSION: { status: 409, blame: 'client' },
  ERR_OVERLOADED: { status: 503, blame: 'host' },
  ERR_GUEST_TRAP: { status: 500, blame: 'guest' },
  ERR_GUEST_ERROR: { status: 500, blame: 'guest' },
  ERR_GUEST_BAD_RESPONSE: { status: 502, blame: 'guest' },
  /** A wasi:http function's outgoing request went to a host not in its allow-list, and it failed. */
  ERR_HTTP_HOST_NOT_ALLOWED: { status: 502, blame: 'guest' },
  ERR_MEMORY_LIMIT: { status: 500, blame: 'guest' },
  ERR_TIMEOUT: { status: 504, blame: 'guest' },
  ERR_COMMIT_FAILED: { status: 500, blame: 'host' },
  /** A chain of function calls went past the node's depth limit (508 Loop Detected). */
  ERR_CALL_TOO_DEEP: { status: 508, blame: 'guest' },
  /** A call routed to another node could not be made or answered (network, TLS, bad answer). */
  ERR_CALL_UNAVAILABLE: { status: 502, blame: 'host' },
  ERR_INTERNAL: { status: 500, blame: 'host' },
  ERR_SHUTTING_DOWN: { status: 503, blame: 'host' },
  /** Another node the request needs (a function's kvNode) did not answer. */
  ERR_NODE_UNAVAILABLE: { status: 503, blame: 'host' },
  /** An async invocation's response is larger than ENOKI_ASYNC_RESULT_MAX_BYTES: not kept. */
  ERR_ASYNC_RESULT_TOO_LARGE: { status: 502, blame: 'guest' },
  /** The node stopped while an accepted async invocation ran; its outcome is unknown. */
  ERR_INVOCATION_INTERRUPTED: { status: 503, blame: 'host' },
  /** An async invocation's result could not be written to the node's disk. */
  ERR_RESULT_STORE_FAILED: { status: 500, blame: 'host' },
  /** X-Enoki-Call-Signature present but stale, replayed, tampered with or made with another secret. */
  ERR_CALL_SIGNATURE_INVALID: { status: 401, blame: 'client' },
} as const satisfies Record<string, { status: number; blame: Blame }>;

export type ErrorCode = keyof typeof ERROR_TABLE;

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
    return ERROR_TABLE[this.code].status;
  }

  get blame(): Blame {
    return ERROR_TABLE[this.code].blame;
  }

  toJSON(): { error: { code: ErrorCode; message: string } & Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

/** Wraps anything thrown into an EnokiError, keeping codes of known errors. */
export function toEnokiError(err: unknown): EnokiError {
  if (err instanceof EnokiError) return err;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && code in ERROR_TABLE) {
    return new EnokiError(code as ErrorCode, (err as Error).message);
  }
  return new EnokiError('ERR_INTERNAL', err instanceof Error ? err.message : String(err));
}
