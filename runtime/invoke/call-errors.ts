// The WIT `call-error` a guest sees for a failed call: mapped from the callee's error code in this
// one place, never from message text.

import { toEnokiError, type ErrorCode } from '../errors.js';
import type { InvokeReply } from '../exec/protocol.js';

export type CallError = Extract<InvokeReply, { ok: false }>['error'];

const TAGS: Partial<Record<ErrorCode, CallError['tag']>> = {
  ERR_FUNCTION_NOT_FOUND: 'not-found',
  ERR_INVALID_NAME: 'not-found',
  ERR_TIMEOUT: 'timeout',
  ERR_OVERLOADED: 'overloaded',
  ERR_CALL_TOO_DEEP: 'too-deep',
  ERR_SHUTTING_DOWN: 'unavailable',
  ERR_CALL_UNAVAILABLE: 'unavailable',
  // The other node does not trust this one's call headers: a configuration fault, not the callee's.
  ERR_CALL_SIGNATURE_INVALID: 'unavailable',
};

/**
 * The callee's own failures (trap, err, bad response, memory, a missing keygroup) are `failed`;
 * failures of a node (blame 'host') are `unavailable`. The message starts with the code.
 */
export function toCallError(err: unknown): CallError {
  const error = toEnokiError(err);
  const tag = TAGS[error.code] ?? (error.blame === 'host' ? 'unavailable' : 'failed');
  return { tag, val: `${error.code}: ${error.message}` };
}
