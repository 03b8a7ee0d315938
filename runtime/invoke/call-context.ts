// Where an invocation sits in a chain of function calls: who called it, how deep the chain is, and
// how much of the caller's time is left. Travels between nodes as X-Enoki-Call-* headers.

import { EnokiError } from '../errors.js';
import type { InvokeCall, InvokeReply } from '../exec/protocol.js';

export interface CallContext {
  /** Invocation id of the calling function. */
  callerId: string;
  /** 1 for a function called by the function a request started, 2 for its callee, and so on. */
  depth: number;
  /** What is left of the caller's timeout, ms; absent for call-async, which is not waited for. */
  remainingMs?: number;
  /** A caller holds a worker of this node while it waits (see exec/worker/worker-pool.ts). */
  nested: boolean;
}

/** The invocation a guest's `invoke` call comes from. */
export interface Caller {
  fn: string;
  invocationId: string;
  /** 0 for an invocation started by a request, else its CallContext.depth. */
  depth: number;
}

/** Serves a guest's `invoke` calls (runtime/invoke/guest-calls.ts). */
export interface GuestCallHandler {
  handle(call: InvokeCall, caller: Caller, remainingMs: number): Promise<InvokeReply>;
}

export const CALL_HEADERS = {
  depth: 'x-enoki-call-depth',
  caller: 'x-enoki-caller',
  remainingMs: 'x-enoki-call-timeout-ms',
} as const;

/** Headers a node sends with a call it forwards to another node. */
export function callHeaders(context: CallContext): Record<string, string> {
  const headers: Record<string, string> = { [CALL_HEADERS.depth]: String(context.depth), [CALL_HEADERS.caller]: context.callerId };
  if (context.remainingMs !== undefined) headers[CALL_HEADERS.remainingMs] = String(Math.max(1, Math.floor(context.remainingMs)));
  return headers;
}

/**
 * The context of a call another node forwarded over HTTP, from its X-Enoki-Call-* headers, which
 * http/call-trust.ts has found to be that node's own (signed, or over mTLS); undefined without
 * a depth. A depth above `maxDepth` is refused here, before anything runs.
 */
export function callContextFromHeaders(
  header: (name: string) => string | undefined,
  options: { maxDepth: number; async: boolean },
): CallContext | undefined {
  const depthText = header(CALL_HEADERS.depth);
  if (depthText === undefined) return undefined;
  const integer = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
      throw new EnokiError('ERR_BAD_REQUEST', `${name} must be an integer ≥ ${min}, got "${text.slice(0, 40)}"`);
    }
    return n;
  };
  const depth = integer(CALL_HEADERS.depth, depthText, 1);
  if (depth > options.maxDepth) {
    throw new EnokiError('ERR_CALL_TOO_DEEP', `the call chain is ${depth} calls deep; this node allows ${options.maxDepth}`);
  }
  const remainingText = header(CALL_HEADERS.remainingMs);
  return {
    callerId: (header(CALL_HEADERS.caller) ?? 'unknown').slice(0, 100),
    depth,
    remainingMs: remainingText === undefined || options.async ? undefined : integer(CALL_HEADERS.remainingMs, remainingText, 1),
    nested: !options.async,
  };
}
