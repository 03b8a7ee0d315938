// Invocation: any method on /fn/{name} and /fn/{name}/* runs the function with that request.
// With "X-Enoki-Async: true" (or "Prefer: respond-async") the call answers 202 at once and its
// result is fetched from /invocations/{id}, where it is replayed as the function's own response.

import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { EnokiError } from '../errors.js';
import type { GuestRequest } from '../exec/protocol.js';
import type { AsyncInvocations } from '../invoke/async-invocations.js';
import { callContextFromHeaders } from '../invoke/call-context.js';
import type { Invoker } from '../invoke/invoker.js';
import { guestRequest, httpResponse } from './guest-io.js';
import { errorResponse } from './respond.js';

/** "X-Enoki-Async: true" or "Prefer: respond-async", read from the guest's header list. */
function wantsAsync(request: GuestRequest): boolean {
  let async = false;
  for (const [name, value] of request.headers) {
    if (name === 'x-enoki-async') async ||= value === 'true' || value === '1';
    else if (name === 'prefer') async ||= /\brespond-async\b/.test(value);
  }
  return async;
}

export function invocationRoutes(deps: { invoker: Invoker; async: AsyncInvocations; maxBodyBytes: number; maxCallDepth: number }): Hono {
  const { invoker } = deps;
  const app = new Hono();
  const handle = async (c: Context) => {
    const name = c.req.param('name') as string;
    const request = await guestRequest(c, name, deps.maxBodyBytes);
    const invocationId = randomUUID();
    // Set when another node forwards a guest's call (see invoke/http-remote-functions.ts).
    const async = wantsAsync(request);
    const header = (wanted: string) => request.headers.find(([key]) => key === wanted.toLowerCase())?.[1];
    const context = callContextFromHeaders(header, { maxDepth: deps.maxCallDepth, async });
    if (async) {
      const work = invoker.invoke(name, request, invocationId, context).then((r) => r.response);
      work.catch(() => undefined);
      if (!deps.async.track(invocationId, work)) {
        throw new EnokiError('ERR_OVERLOADED', 'too many asynchronous invocations in flight');
      }
      c.header('location', `/invocations/${invocationId}`);
      return c.json({ invocationId, status: `/invocations/${invocationId}` }, 202);
    }
    const result = await invoker.invoke(name, request, invocationId, context);
    return httpResponse(c, result.response, {
      'x-enoki-invocation-id': invocationId,
      'x-enoki-version': result.version,
      'x-enoki-cold-start': result.cold ? '1' : '0',
    });
  };

  app.all('/fn/:name', handle);
  app.all('/fn/:name/*', handle);

  app.get('/invocations/:id', (c) => {
    const id = c.req.param('id');
    const entry = deps.async.get(id);
    if (!entry) throw new EnokiError('ERR_INVOCATION_NOT_FOUND', `no invocation ${id} (unknown, or its result expired)`);
    if (entry.state === 'running') return c.json({ invocationId: id, state: 'running' }, 202);
    const state = { 'x-enoki-invocation-id': id, 'x-enoki-invocation-state': entry.state };
    if (entry.state === 'failed') {
      const res = errorResponse(c, entry.error);
      for (const [k, v] of Object.entries(state)) res.headers.set(k, v);
      return res;
    }
    return httpResponse(c, entry.response, state);
  });

  return app;
}
