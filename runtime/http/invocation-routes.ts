// Invocation: any method on /fn/{name} and /fn/{name}/* runs the function with that request.
// With "X-Enoki-Async: true" (or "Prefer: respond-async") the call answers 202 at once and its
// result is fetched from /invocations/{id}, where it is replayed as the function's own response.

import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { EnokiError } from '../errors.js';
import type { GuestRequest, GuestResponse } from '../exec/protocol.js';
import type { AsyncInvocations } from '../invoke/async-invocations.js';
import { callContextFromHeaders } from '../invoke/call-context.js';
import type { Invoker } from '../invoke/invoker.js';
import { errorResponse, tooLarge } from './respond.js';

async function guestRequest(c: Context, name: string): Promise<GuestRequest> {
  const url = new URL(c.req.url);
  const prefix = `/fn/${name}`;
  const rest = url.pathname.slice(prefix.length);
  const headers: [string, string][] = [];
  c.req.raw.headers.forEach((value, key) => headers.push([key, value]));
  return {
    method: c.req.method,
    path: rest === '' ? '/' : rest,
    query: url.search.replace(/^\?/, ''),
    headers,
    body: new Uint8Array(await c.req.arrayBuffer()),
  };
}

function httpResponse(response: GuestResponse, extra: Record<string, string>): Response {
  let headers: Headers;
  try {
    headers = new Headers(response.headers);
  } catch (err) {
    throw new EnokiError('ERR_GUEST_BAD_RESPONSE', `the function returned an invalid header: ${(err as Error).message}`);
  }
  for (const [k, v] of Object.entries(extra)) headers.set(k, v);
  const nullBody = response.status === 204 || response.status === 304 || response.status < 200;
  return new Response(nullBody ? null : (response.body as Uint8Array<ArrayBuffer>), { status: response.status, headers });
}

function wantsAsync(c: Context): boolean {
  const flag = c.req.header('x-enoki-async');
  return flag === 'true' || flag === '1' || /\brespond-async\b/.test(c.req.header('prefer') ?? '');
}

export function invocationRoutes(deps: { invoker: Invoker; async: AsyncInvocations; maxBodyBytes: number; maxCallDepth: number }): Hono {
  const { invoker } = deps;
  const app = new Hono();
  const limit = bodyLimit({
    maxSize: deps.maxBodyBytes,
    onError: () => {
      throw tooLarge(deps.maxBodyBytes, 'the request body');
    },
  });

  const handle = async (c: Context) => {
    const name = c.req.param('name') as string;
    const request = await guestRequest(c, name);
    const invocationId = randomUUID();
    // Set when another node forwards a guest's call (see invoke/remote-functions.ts).
    const context = callContextFromHeaders((h) => c.req.header(h), { maxDepth: deps.maxCallDepth, async: wantsAsync(c) });
    if (wantsAsync(c)) {
      const work = invoker.invoke(name, request, invocationId, context).then((r) => r.response);
      work.catch(() => undefined);
      if (!deps.async.track(invocationId, work)) {
        throw new EnokiError('ERR_OVERLOADED', 'too many asynchronous invocations in flight');
      }
      c.header('location', `/invocations/${invocationId}`);
      return c.json({ invocationId, status: `/invocations/${invocationId}` }, 202);
    }
    const result = await invoker.invoke(name, request, invocationId, context);
    return httpResponse(result.response, {
      'x-enoki-invocation-id': invocationId,
      'x-enoki-version': result.version,
      'x-enoki-cold-start': result.cold ? '1' : '0',
    });
  };

  app.all('/fn/:name', limit, handle);
  app.all('/fn/:name/*', limit, handle);

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
    return httpResponse(entry.response, state);
  });

  return app;
}
