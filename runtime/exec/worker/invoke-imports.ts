// The guest side of the `invoke` interface, inside a guest worker: each call blocks the worker on
// its own sync channel until the main thread has run (or routed) the callee.

import type { GuestRequest, GuestResponse, InvokeCall, InvokeReply } from '../protocol.js';

/**
 * jco lifts `list<u8>` into a Uint8Array that may be a view on a larger buffer; posting it would
 * clone the whole buffer, so the body is copied to its own. Headers are copied as plain pairs.
 */
function ownRequest(req: GuestRequest): GuestRequest {
  return {
    method: req.method,
    path: req.path,
    query: req.query,
    headers: req.headers.map(([k, v]) => [k, v]),
    body: new Uint8Array(req.body),
  };
}

export function invokeImports(hostCall: (call: InvokeCall) => InvokeReply): Record<string, unknown> {
  const send = (op: InvokeCall['op'], fn: string, req: GuestRequest) => {
    const reply = hostCall({ op, function: fn, request: ownRequest(req) });
    if (reply.ok) return reply.value;
    // As for KV: jco turns a thrown object with `payload` into the `err` case of the result.
    throw { payload: reply.error };
  };
  return {
    call: (fn: string, req: GuestRequest) => send('call', fn, req) as GuestResponse,
    callAsync: (fn: string, req: GuestRequest) => send('call-async', fn, req) as string,
  };
}
