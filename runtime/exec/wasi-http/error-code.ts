// A wasi:http error-code as both engines represent it: { tag } or { tag, val }, the case names of
// the WIT variant.

export type ErrorCode = { tag: string; val?: unknown };

/** The error for a log line or a failure message. */
export function describeError(code: ErrorCode): string {
  return code.val === undefined ? code.tag : `${code.tag} (${typeof code.val === 'string' ? code.val : JSON.stringify(code.val, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))})`;
}
