// Components written in Rust, as a Rust user builds them (rustc's wasm32-wasip2 target, wit-bindgen
// or the `wasi` crate; sources and build script in test/fixtures/rust/, the built components kept
// there since CI has no Rust toolchain): a function of Enoki's world using the standard library,
// built twice (for wasm32-wasip2, and for wasm32-wasip1 with the preview1 adapter, the shape of
// cargo-component's and TinyGo's components), and a wasi:http/proxy component. Rust's std brings
// imports of its own (cli, clocks, filesystem, random), and its component imports only the Enoki
// functions the guest calls. On Node 24 they run on the event loop, on Node 20 on workers: each
// run of the suite covers one engine.

import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { guest, startTestNode, type TestNode } from '../helpers/test-node.js';

const RUST = fileURLToPath(new URL('../../../test/fixtures/rust/', import.meta.url));

interface LogLine {
  stream: string;
  message: string;
}

/** The Enoki-world guest as each build makes it; `fn` is its function's name (and keygroup). */
const ENOKI_GUESTS = [
  { fn: 'rs', file: 'enoki-guest.wasm', build: 'wasm32-wasip2' },
  { fn: 'rsp1', file: 'enoki-guest-p1.wasm', build: 'wasm32-wasip1 + adapter' },
];

const test = suite<{ n: TestNode; upstream: http.Server; port: number; worlds: string[] }>('functions: Rust guests');

test.before(async (ctx) => {
  // Answers what it was sent: method, URL, a header and the body, with headers of its own.
  ctx.upstream = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(201, { 'x-got': String(body.length), 'x-from-was': String(req.headers['x-from']) }).end(`${req.method} ${req.url} ${body}`);
    });
  });
  await new Promise<void>((resolve) => ctx.upstream.listen(0, '127.0.0.1', resolve));
  ctx.port = (ctx.upstream.address() as AddressInfo).port;
  ctx.n = await startTestNode({ workers: 1 });
  const deploys = [];
  for (const { fn, file } of ENOKI_GUESTS) deploys.push(await ctx.n.deploy(fn, await fs.readFile(`${RUST}${file}`), '?timeoutMs=1500&memoryMiB=32&env=GREETING%3Dhello&env=STAGE%3Dtest'));
  deploys.push(await ctx.n.deploy('rs-http', await fs.readFile(`${RUST}http-guest.wasm`), `?allowHost=127.0.0.1:${ctx.port}`));
  ctx.worlds = [];
  for (const res of deploys) {
    const answer = await res.json();
    assert.is(res.status, 201, JSON.stringify(answer));
    ctx.worlds.push(answer.world);
  }
  assert.is((await ctx.n.deploy('hello', await guest('hello'))).status, 201);
});
test.after(async (ctx) => {
  await ctx.n.close();
  await new Promise((resolve) => ctx.upstream.close(resolve));
});

async function text(n: TestNode, name: string, path: string, init: RequestInit = {}): Promise<string> {
  const res = await n.call(name, { ...init, path });
  const body = await res.text();
  assert.is(res.status, 200, `${path}: ${body}`);
  return body;
}

async function failure(n: TestNode, fn: string, path: string): Promise<{ code: string; message: string }> {
  const res = await n.call(fn, { path });
  assert.is(res.status >= 500, true, `${path} answered ${res.status}`);
  return (await res.json()).error;
}

test('each deploys as its world; the Enoki ones import only the kv functions they call', async ({ worlds }) => {
  assert.equal(worlds, ['enoki:faas/function', 'enoki:faas/function', 'wasi:http/proxy']);
});

for (const { fn, build } of ENOKI_GUESTS) {
  test(`${build}: std::thread::sleep sleeps at least what it asks, by the monotonic clock`, async ({ n }) => {
    for (const ms of [1, 3, 20, 50]) assert.match(await text(n, fn, `/sleep?${ms}`), /^slept \d+$/);
  });

  test(`${build}: std::env and the env interface both see the deploy-time environment`, async ({ n }) => {
    assert.is(await text(n, fn, '/env'), 'GREETING=hello,STAGE=test\ngreeting: hello');
  });

  test(`${build}: stdout and stderr become the invocation's log lines`, async ({ n }) => {
    assert.is(await text(n, fn, '/print'), 'printed');
    const { invocations } = await (await n.admin('GET', `/functions/${fn}/logs?limit=1`)).json();
    const lines = (invocations[0].lines as LogLine[]).filter((l) => l.stream !== 'debug');
    assert.equal(lines, [
      { stream: 'stdout', message: 'a line on stdout' },
      { stream: 'stderr', message: 'a line on stderr' },
    ]);
  });

  test(`${build}: the host's files are out of reach: no directory is preopened`, async ({ n }) => {
    assert.is(await text(n, fn, '/file'), 'refused: NotFound');
  });

  test(`${build}: kv: set-many, get-many, scan, keys, delete, and a delete of an absent id as an error value`, async ({ n }) => {
    const body = await text(n, fn, '/kv', { method: 'POST', body: 'a=1,b=2,c=3' });
    assert.is(
      body,
      'got [Some("1"), Some("2"), Some("3")]\nscan ["a=1", "b=2", "c=3"]\nkeys ["a", "b", "c"]\nafter delete None\n' +
        'kv: KvError::NotFound("no item \\"absent\\" to delete")',
    );
    const b = await (await n.admin('GET', `/keygroups/${fn}/items/b`)).json();
    assert.equal(b.siblings.map((s: { value: string }) => s.value), ['2']);
    assert.is((await n.admin('GET', `/keygroups/${fn}/items/a`)).status, 404);
  });

  test(`${build}: atomics: increment, and compare-and-swap refusing a stale version and taking the current one`, async ({ n }) => {
    assert.is(await text(n, fn, '/count', { method: 'POST' }), 'count 1, stale swap false, current swap true');
    assert.is(await text(n, fn, '/count', { method: 'POST' }), 'count 11, stale swap false, current swap true');
  });

  test(`${build}: invoke: a call to another function, and to none`, async ({ n }) => {
    assert.is(await text(n, fn, '/call?hello'), '200 hello from wat\n');
    assert.match(await text(n, fn, '/call?nobody'), /^call failed: CallError::NotFound\(.*ERR_FUNCTION_NOT_FOUND/);
  });

  test(`${build}: a panic, a memory bomb, a loop and a stack overflow each end in a typed error; the node serves on`, async ({ n }) => {
    const panic = await failure(n, fn, '/panic');
    assert.is(panic.code, 'ERR_GUEST_TRAP');
    assert.match(panic.message, 'panicked at');
    assert.match(panic.message, 'asked to panic');
    const bomb = await failure(n, fn, '/bomb');
    assert.is(bomb.code, 'ERR_GUEST_TRAP');
    assert.match(bomb.message, /memory allocation of \d+ bytes failed/);
    assert.is((await failure(n, fn, '/spin')).code, 'ERR_TIMEOUT');
    assert.is((await failure(n, fn, '/deep')).code, 'ERR_GUEST_TRAP');
    assert.is(await text(n, fn, '/env'), 'GREETING=hello,STAGE=test\ngreeting: hello');
  });
}

test('the wasi:http guest reads a request body in chunks and answers with what it got', async ({ n }) => {
  const body = 'ü'.repeat(50_000);
  const answer = await text(n, 'rs-http', '/echo?q=1', { method: 'POST', body, headers: { 'x-note': 'hi' } });
  assert.is(answer, `Method::Post /echo?q=1 note=hi ${Buffer.byteLength(body)} bytes: ${'ü'.repeat(8)}`);
});

test('the wasi:http guest may read and splice "all there is" (a u64::MAX length), as Rust\'s wstd does', async ({ n }) => {
  const body = Buffer.alloc(300_000, 'abc');
  const read = await text(n, 'rs-http', '/echo?max', { method: 'POST', body });
  assert.is(read, `Method::Post /echo?max note= ${body.length} bytes: ${body.subarray(0, 16)}`);
  const spliced = await n.call('rs-http', { path: '/splice', method: 'POST', body });
  assert.is(spliced.status, 200);
  assert.ok(Buffer.from(await spliced.arrayBuffer()).equals(body), 'the body came back whole');
});

test('the wasi:http guest can pass on every request header it is given; the host is its authority, the scheme http', async ({ n }) => {
  // As wasmtime hands them: no field about the connection (host, connection, …), which a guest
  // may not set, so copying them all into a response is not refused.
  const res = await n.call('rs-http', { path: '/headers', headers: { 'x-note': 'passed on', 'x-other': 'too' } });
  const body = await res.text();
  assert.is(res.status, 200, body);
  assert.is(body, `http ${new URL(n.url).host}`);
  assert.is(res.headers.get('x-note'), 'passed on');
  assert.is(res.headers.get('x-other'), 'too');
});

test('the wasi:http guest streams a 4 MiB answer in blocking writes', async ({ n }) => {
  const res = await n.call('rs-http', { path: '/big?4096' });
  assert.is(res.status, 200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.is(bytes.length, 4 << 20);
  assert.ok(bytes.every((b) => b === 0x78));
});

test('the wasi:http guest\'s outgoing request reaches an allowed host; another is denied', async ({ n, port }) => {
  assert.is(
    await text(n, 'rs-http', `/fetch?127.0.0.1:${port}`, { method: 'POST', body: 'to upstream' }),
    '201 [x-from-was=rust x-got=11] POST /echo?from=rust to upstream',
  );
  assert.is(await text(n, 'rs-http', '/fetch?127.0.0.1:9', { method: 'POST', body: 'x' }), 'error ErrorCode::HttpRequestDenied');
});

test.run();
