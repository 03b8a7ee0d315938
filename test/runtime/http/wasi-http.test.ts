// wasi:http/proxy components (built as `jco componentize` builds a fetch handler, and one written
// in WAT) deploy with the same PUT and are served at /fn/{name}: the request passes through, the
// response comes back with its status, headers and a streamed body; outgoing HTTP goes only to
// allowed hosts; a malformed response or a refused host is a coded error and the node stays up.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { readAndLeave, readSlowly } from '../../helpers/slow-client.js';
import { guest, startTestNode, type TestNode } from '../../helpers/test-node.js';

interface Upstream {
  port: number;
  seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

/** A loopback server standing for the outside world: /big answers 200 KiB, /hang never answers. */
async function upstream(): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (req.url === '/hang') return;
      if (req.url === '/big') return res.end(Buffer.alloc(200 * 1024, 97));
      res.writeHead(201, { 'x-upstream': 'yes' }).end(`you sent ${req.method} ${Buffer.concat(chunks).toString()}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface LogEntry {
  status: number;
  error?: { code: string; message: string };
  lines: { stream: string; message: string }[];
}

async function logs(n: TestNode, name: string): Promise<LogEntry[]> {
  return ((await (await n.admin('GET', `/functions/${name}/logs`)).json()) as { invocations: LogEntry[] }).invocations;
}

async function lastLog(n: TestNode, name: string): Promise<LogEntry> {
  return (await logs(n, name)).at(-1)!;
}

const test = suite<{ n: TestNode; up: Upstream }>('http: wasi:http components');

test.before(async (ctx) => {
  // A small body limit, so that the size limit of outgoing responses is easy to reach.
  ctx.n = await startTestNode({ maxBodyBytes: 64 * 1024 });
  ctx.up = await upstream();
  const res = await ctx.n.deploy('echo', await guest('worlds/http-echo.wasm'), `?allowHost=127.0.0.1:${ctx.up.port}&timeoutMs=5000`);
  const body = (await res.json()) as { world: string };
  assert.is(res.status, 201, JSON.stringify(body));
  assert.is(body.world, 'wasi:http/proxy');
});
test.after(async (ctx) => {
  await ctx.up.close();
  await ctx.n.close();
});

test('method, path, query, headers and body reach the guest', async ({ n }) => {
  const res = await n.call('echo', { method: 'PUT', path: '/echo?a=1&b=two', body: 'the body', headers: { 'x-custom': 'value 1' } });
  assert.is(res.status, 200);
  const got = (await res.json()) as { method: string; path: string; query: string; headers: Record<string, string>; body: string };
  assert.is(got.method, 'PUT');
  assert.is(got.path, '/echo');
  assert.is(got.query, '?a=1&b=two');
  assert.is(got.headers['x-custom'], 'value 1');
  assert.is(got.body, 'the body');
  assert.ok(res.headers.get('x-enoki-invocation-id'));
});

test("the guest's status and headers come back", async ({ n }) => {
  const res = await n.call('echo', { path: '/status/418' });
  assert.is(res.status, 418);
  assert.is(res.headers.get('x-guest'), 'set');
  assert.is(res.headers.get('set-cookie'), 'a=1');
  assert.is(await res.text(), 'status 418\n');
});

test('every request gets a fresh instance: many calls, one after another and at once, all answer', async ({ n }) => {
  for (let i = 0; i < 8; i++) {
    const res = await n.call('echo', { method: 'POST', path: '/echo', body: `n${i}` });
    assert.is(res.status, 200);
    assert.is(((await res.json()) as { body: string }).body, `n${i}`);
  }
  const all = await Promise.all(Array.from({ length: 6 }, (_, i) => n.call('echo', { method: 'POST', path: '/echo', body: `c${i}` })));
  const bodies = await Promise.all(all.map(async (r) => ((await r.json()) as { body: string }).body));
  assert.equal(bodies.sort(), ['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);
});

test('the body streams: the first part arrives before the guest makes the last', async ({ n }) => {
  const res = await n.call('echo', { path: '/stream?parts=3&delay=400' });
  assert.is(res.status, 200);
  const reader = res.body!.getReader();
  const first = await reader.read();
  const firstArrived = Date.now();
  let text = new TextDecoder().decode(first.value);
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
  const parts = text.trim().split('\n');
  assert.is(parts.length, 3);
  const lastMade = Number(parts[2].split(' at ')[1]);
  assert.ok(firstArrived <= lastMade, `the first part arrived at ${firstArrived}, after the last was made at ${lastMade}`);
});

test('outgoing HTTP reaches an allowed host, with the guest’s method, headers and body', async ({ n, up }) => {
  const res = await n.call('echo', { method: 'POST', path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/x`)}`, body: 'ping' });
  assert.is(await res.text(), 'upstream 201: you sent POST ping');
  assert.is(res.headers.get('x-upstream-status'), '201');
  const seen = up.seen.at(-1)!;
  assert.is(seen.url, '/x');
  assert.is(seen.headers['x-from-guest'], 'yes');
});

test('a host not in the allow-list is refused: the guest gets an error, the log says why', async ({ n }) => {
  // Allowed host, other port: refused too.
  const res = await n.call('echo', { path: `/fetch?url=${encodeURIComponent('http://127.0.0.1:9/x')}` });
  assert.is(res.status, 599, 'the guest handled the failure itself');
  // The log entry is written when the call ends, which is when its streamed body ends.
  assert.match(await res.text(), 'fetch failed');
  const entry = await lastLog(n, 'echo');
  assert.ok(entry.lines.some((l) => l.message.startsWith('ERR_HTTP_HOST_NOT_ALLOWED') && l.message.includes('127.0.0.1:9')), JSON.stringify(entry));
  // A guest that does not handle it fails the call with that code.
  const failed = await n.call('echo', { path: `/fetch?rethrow=1&url=${encodeURIComponent('http://localhost:9/x')}` });
  assert.is(failed.status, 502);
  const { error } = (await failed.json()) as { error: { code: string; message: string } };
  assert.is(error.code, 'ERR_HTTP_HOST_NOT_ALLOWED');
  assert.match(error.message, 'localhost:9');
});

test('a function deployed without allowed hosts reaches none', async ({ n, up }) => {
  assert.is((await n.deploy('closed', await guest('worlds/http-echo.wasm'))).status, 201);
  const before = up.seen.length;
  const res = await n.call('closed', { path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/x`)}` });
  assert.is(res.status, 599);
  assert.is(up.seen.length, before, 'nothing was sent');
});

test('outgoing responses are held to the body limit and calls to the timeout', async ({ n, up }) => {
  const big = await n.call('echo', { path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/big`)}` });
  assert.is(big.status, 599);
  assert.match(await big.text(), 'fetch failed');
  assert.is((await n.deploy('slow', await guest('worlds/http-echo.wasm'), `?allowHost=127.0.0.1:${up.port}&timeoutMs=1500`)).status, 201);
  const hang = await n.call('slow', { path: `/fetch?rethrow=1&url=${encodeURIComponent(`http://127.0.0.1:${up.port}/hang`)}` });
  assert.is(hang.status, 504);
  assert.is(((await hang.json()) as { error: { code: string } }).error.code, 'ERR_TIMEOUT');
});

test('a malformed response (body shorter than its content-length) is ERR_GUEST_BAD_RESPONSE', async ({ n }) => {
  const res = await n.call('echo', { path: '/wrong-length' });
  assert.is(res.status, 502);
  const { error } = (await res.json()) as { error: { code: string; message: string } };
  assert.is(error.code, 'ERR_GUEST_BAD_RESPONSE');
  assert.match(error.message, 'content-length says 10');
});

test('a streamed response that turns out malformed is aborted, never complete-looking, and logged with a code', async ({ n }) => {
  const res = await n.call('echo', { path: '/stream-wrong-length' });
  assert.is(res.status, 200, 'the head went out when the guest started waiting');
  const text = await res.text().catch((err: Error) => err);
  assert.instance(text, Error, `the client read a complete-looking body: ${String(text)}`);
  const entry = await lastLog(n, 'echo');
  assert.is(entry.error?.code, 'ERR_GUEST_BAD_RESPONSE');
  assert.match(entry.error!.message, 'content-length says 100');
});

test('a client that pauses 2 s: the guest waits for it, and all 40 MiB arrive (past 16 MiB unread the node would cut it off)', async ({ n }) => {
  assert.is((await n.deploy('flood', await guest('worlds/http-echo.wasm'), '?timeoutMs=60000')).status, 201);
  // The node cuts off a client that leaves more than 16 MiB unread: a guest that wrote on while
  // the client paused would have lost its response.
  const got = await readSlowly(`${n.url}/fn/flood/flood?mib=40`, 2000, () => 120);
  assert.equal(got, { status: 200, bytes: 40 * 2 ** 20, matches: true, complete: true });
});

test("a client that leaves an endless body: the guest's writes fail and its call ends long before its timeout", async ({ n }) => {
  const before = (await logs(n, 'flood')).length;
  const read = await readAndLeave(`${n.url}/fn/flood/flood`, 1000, 4 * 2 ** 20);
  assert.ok(read > 0, 'the body flowed once the client read');
  const started = performance.now();
  let entries = await logs(n, 'flood');
  while (entries.length === before && performance.now() - started < 10_000) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    entries = await logs(n, 'flood');
  }
  assert.is(entries.length, before + 1, 'the call ended within 10 s of the client leaving (its timeout is 60 s)');
  // StarlingMonkey traps at a failed write: the log says that its client had gone by then.
  const { error } = entries.at(-1)!;
  assert.is.not(error?.code, 'ERR_TIMEOUT');
  if (error) assert.match(error.message, 'after its client had gone');
  assert.is((await n.call('echo', { path: '/status/200' })).status, 200);
});

test('a guest that throws is a coded error, and the node serves on', async ({ n }) => {
  const res = await n.call('echo', { path: '/throw' });
  assert.ok(res.status >= 500, `status ${res.status}`);
  await res.text().catch(() => undefined);
  const entry = await lastLog(n, 'echo');
  assert.ok(entry.error?.code.startsWith('ERR_GUEST'), JSON.stringify(entry));
  const health = await n.call('echo', { path: '/status/200' });
  assert.is(health.status, 200);
});

test('a component in WAT: served the same way', async ({ n }) => {
  assert.is((await n.deploy('hello-wat', await guest('worlds/hello-wat.wasm'))).status, 201);
  for (let i = 0; i < 3; i++) {
    const res = await n.call('hello-wat', { path: '/anything?x' });
    assert.is(res.status, 200);
    assert.is(res.headers.get('content-type'), 'text/plain');
    assert.is(await res.text(), 'hello from wat\n');
  }
});

test('allowed hosts are checked at deploy', async ({ n }) => {
  const res = await n.deploy('bad-hosts', await guest('worlds/hello-wat.wasm'), '?allowHost=http://x.example');
  assert.is(res.status, 400);
  assert.is(((await res.json()) as { error: { code: string } }).error.code, 'ERR_INVALID_OPTION');
});

test.run();
