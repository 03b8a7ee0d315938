// The warm scenario's "no WebAssembly" baseline: the logic of the hello and echo functions as
// plain JS handlers on a Hono server, served like a node serves (the node's own HTTP adapter, one process,
// the route shape /fn/{name}[/*]). Run as a child process by the suite; prints its URL.
//
//   node dist/bench/suite/plain-server.js

import type { AddressInfo } from 'node:net';
import { Hono, type Context } from 'hono';
import { serveHttp } from '../../runtime/http/server/serve.js';

const decoder = new TextDecoder();

// functions/hello/hello.wat: a fixed text answer.
const hello = (c: Context) => c.body('hello from wat\n', 200, { 'content-type': 'text/plain; charset=utf-8' });

// functions/echo/echo.js: the request as JSON, built from the same fields a guest receives.
const echo = async (c: Context) => {
  const url = new URL(c.req.url);
  const rest = url.pathname.slice('/fn/echo'.length);
  const headers: [string, string][] = [];
  c.req.raw.headers.forEach((value, key) => headers.push([key, value]));
  const echoed = {
    method: c.req.method,
    path: rest === '' ? '/' : rest,
    query: url.search.replace(/^\?/, ''),
    headers,
    body: decoder.decode(new Uint8Array(await c.req.arrayBuffer())),
  };
  return c.body(JSON.stringify(echoed), 200, { 'content-type': 'application/json' });
};

const app = new Hono();
app.all('/fn/hello', hello);
app.all('/fn/hello/*', hello);
app.all('/fn/echo', echo);
app.all('/fn/echo/*', echo);

const server = await serveHttp(app.fetch, { port: 0, hostname: '127.0.0.1', onError: (err) => process.stderr.write(`${String(err)}\n`) });
process.stderr.write(`plain JS server listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
process.once('SIGTERM', () => server.close(() => process.exit(0)));
