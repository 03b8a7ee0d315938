// The X-Enoki-Call-* headers of incoming requests. They steer scheduling (a callee goes before
// other invocations and may start extra workers) and name the caller in the function's log, so
// they are honoured only on a node's own calls: signed with the nodes' shared secret
// (invoke/call-signature.ts), or sent over mTLS with a node certificate of the cluster CA. From
// anyone else they are removed before anything sees them, the guest included, and the request
// is an ordinary one. A signature that is present but does not verify fails the request
// (ERR_CALL_SIGNATURE_INVALID): that is a node with the wrong secret or clock, or a forgery.

import type { Context } from 'hono';
import { EnokiError } from '../errors.js';
import type { GuestRequest } from '../exec/protocol.js';
import { CALL_HEADERS } from '../invoke/call-context.js';
import { SIGNATURE_HEADER, type CallSigner } from '../invoke/call-signature.js';
import { requestTarget } from './guest-io.js';

export interface CallTrust {
  /** Verifies signed call headers; without it a signature is refused. */
  signer?: CallSigner;
  /** Whether the request came from a node: mTLS with a node certificate of the cluster CA. */
  fromNode?: (c: Context) => boolean;
}

/** Every header a node sets on its calls starts with this (x-enoki-call-depth, x-enoki-caller, …). */
const PREFIX = 'x-enoki-call';

/**
 * Takes every X-Enoki-Call* header off `request`. For a node's own call, returns a lookup of the
 * call headers (which the guest then sees too, as facts of its call); otherwise undefined.
 */
export function takeCallHeaders(c: Context, request: GuestRequest, async: boolean, trust: CallTrust): ((name: string) => string | undefined) | undefined {
  // The common case, no such header, costs one pass and no allocation.
  if (!request.headers.some(([name]) => name.startsWith(PREFIX))) return undefined;
  const kept: [string, string][] = [];
  const taken = new Map<string, string>();
  for (const pair of request.headers) {
    if (pair[0].startsWith(PREFIX)) taken.set(pair[0], pair[1]);
    else kept.push(pair);
  }
  request.headers = kept;
  const signature = taken.get(SIGNATURE_HEADER);
  taken.delete(SIGNATURE_HEADER);
  const depth = taken.get(CALL_HEADERS.depth);
  if (trust.fromNode?.(c)) {
    // Over the authenticated peer channel, a signature adds nothing.
  } else if (signature !== undefined) {
    if (!trust.signer) throw new EnokiError('ERR_CALL_SIGNATURE_INVALID', 'this node has no ENOKI_CALL_SECRET to check the call signature with');
    const verdict = trust.signer.verify(
      {
        method: request.method,
        target: requestTarget(c),
        depth: depth ?? '',
        caller: taken.get(CALL_HEADERS.caller) ?? '',
        timeoutMs: taken.get(CALL_HEADERS.remainingMs),
        async,
      },
      signature,
    );
    if (!verdict.ok) throw new EnokiError('ERR_CALL_SIGNATURE_INVALID', `the call signature is ${verdict.reason}`);
  } else {
    return undefined;
  }
  for (const [name, value] of taken) if (name === CALL_HEADERS.depth || name === CALL_HEADERS.caller || name === CALL_HEADERS.remainingMs) request.headers.push([name, value]);
  return (name) => taken.get(name.toLowerCase());
}
