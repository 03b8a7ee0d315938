// Invocation: any method on /fn/{name} and /fn/{name}/* runs the function with that request.
// With "X-Enoki-Async: true" (or "Prefer: respond-async") the call answers 202 at once and its
// result is fetched from /invocations/{id}, where it is replayed as the function's own response
// to whoever presents the invoking request's credentials (see result-access.ts).

import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { EnokiError } from '../errors.js';
import type { GuestRequest } from '../exec/protocol.js';
import type { AsyncInvocations } from '../invoke/async-invocations.js';
import { callContextFromHeaders } from '../invoke/call-context.js';
import type { Invoker } from '../invoke/invoker.js';
import { takeCallHeaders, type CallTrust } from './call-trust.js';
import { guestHttpResponse, guestRequest, httpResponse } from './guest-io.js';
import { errorResponse } from './respond.js';
import { invokeStreaming } from './streamed-response.js';
import { credentialsOf, readerOf, type ResultAccess } from './result-access.js';

export interface InvocationRouteDeps {
  invoker: Invoker;
  async: AsyncInvocations;
  access: ResultAccess;
  trust: CallTrust;
  /** Whether a function of that name is deployed here. */
  exists(name: string): boolean;
  /** Whether the worker queue takes another invocation now (else an async request gets 503). */
  hasRoom(): boolean;
  maxBodyBytes: number;
  maxCallDepth: number;
}

/** "X-Enoki-Async: true" or "Prefer: respond-async", read from the guest's header list. */
function wantsAsync(request: GuestRequest): boolean {
  let async = false;
  for (const [name, value] of request.headers) {
    if (name === 'x-enoki-async') async ||= value === 'true' || value === '1';
    else if (name === 'prefer') async ||= /\brespond-async\b/.test(value);
  }
  return async;
}

/** The same answer for an unknown, expired or unreadable id: the answer tells nobody which. */
const notFound = (id: string) =>
  new EnokiError('ERR_INVOCATION_NOT_FOUND', `no invocation ${id.slice(0, 80)} readable with these credentials (unknown, expired, or started with other credentials)`);

export function invocationRoutes(deps: InvocationRouteDeps): Hono {
  const { invoker } = deps;
  const app = new Hono();
  const handle = async (c: Context) => {
    const name = c.req.param('name') as string;
    const read = guestRequest(c, name, deps.maxBodyBytes);
    const request = read instanceof Promise ? await read : read;
    const invocationId = randomUUID();
    const async = wantsAsync(request);
    // Set when another node forwards a guest's call (see invoke/http-remote-functions.ts).
    const callHeader = takeCallHeaders(c, request, async, deps.trust);
    const context = callHeader && callContextFromHeaders(callHeader, { maxDepth: deps.maxCallDepth, async });
    if (async) {
      // Refused requests run nothing: the checks and the claim of a place come before the start.
      if (!deps.exists(name)) throw new EnokiError('ERR_FUNCTION_NOT_FOUND', `no function named "${name}"`);
      if (!deps.hasRoom()) throw new EnokiError('ERR_OVERLOADED', 'too many invocations waiting for a worker');
      const { owner, resultToken } = deps.access.ownerOf(credentialsOf(c), true);
      await deps.async.submit(invocationId, name, owner, async () => (await invoker.invoke(name, request, invocationId, context)).response);
      c.header('location', `/invocations/${invocationId}`);
      return c.json({ invocationId, status: `/invocations/${invocationId}`, ...(resultToken !== undefined && { resultToken }) }, 202);
    }
    // A wasi:http function's response streams: it is answered at its head (streamed-response.ts).
    const outgoing = (c.env as { outgoing?: { destroy(): void } } | undefined)?.outgoing;
    const outcome = await invokeStreaming(
      (stream) => invoker.invoke(name, request, invocationId, context, stream),
      outgoing && (() => outgoing.destroy()),
    );
    if (outcome.kind === 'streamed') {
      const { head, body } = outcome;
      return guestHttpResponse(c, head.status, head.headers, body, {
        'x-enoki-invocation-id': invocationId,
        'x-enoki-version': head.version,
        'x-enoki-cold-start': head.cold ? '1' : '0',
      });
    }
    const result = outcome.invocation;
    return httpResponse(c, result.response, {
      'x-enoki-invocation-id': invocationId,
      'x-enoki-version': result.version,
      'x-enoki-cold-start': result.cold ? '1' : '0',
    });
  };

  app.all('/fn/:name', handle);
  app.all('/fn/:name/*', handle);

  app.get('/invocations/:id', async (c) => {
    const id = c.req.param('id');
    const view = deps.async.get(id);
    if (!view || !deps.access.mayRead(view.owner, readerOf(c))) throw notFound(id);
    if (view.state === 'running') return c.json({ invocationId: id, state: 'running' }, 202);
    const result = await deps.async.result(id);
    // Expired or evicted between the two looks.
    if (!result) throw notFound(id);
    const state = { 'x-enoki-invocation-id': id, 'x-enoki-invocation-state': result.state };
    if (result.state === 'failed') {
      const res = errorResponse(c, result.error);
      for (const [k, v] of Object.entries(state)) res.headers.set(k, v);
      return res;
    }
    return guestHttpResponse(c, result.status, result.headers, result.body, state);
  });

  return app;
}
