// The wasi:http world on each engine adapter: a WAT component that reads its whole request
// (test/fixtures/worlds/http-probe.wat) and one that counts with wasi:keyvalue, served by the
// inline engine (where this Node has JSPI: no worker is started) and by the worker pool, and a JS
// guest that calls out with fetch. Both must pass the request through, give every concurrent
// request its own reply (its own upstream answer too), give every request a fresh instance,
// stream a response the guest waits in the middle of, count exactly, and end errors, malformed
// responses and endless loops in their codes while the node serves on.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { hasJspi } from '../../../runtime/exec/inline/jspi.js';
import { readAndLeave, readSlowly } from '../../helpers/slow-client.js';
import { guest, startTestNode, type TestNode } from '../../helpers/test-node.js';

const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

async function workersRunning(n: TestNode): Promise<number> {
  const text = await (await fetch(`${n.url}/metrics`)).text();
  return Number(/^enoki_workers (\d+)/m.exec(text)?.[1]);
}

/** A loopback server standing for the outside world: answers what it got, after `?ms=` ms. */
async function upstream(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
      setTimeout(() => res.writeHead(201).end(`${req.method} ${req.url} ${req.headers['x-from-guest']} ${Buffer.concat(chunks)}`), ms);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/** The flood's body: byte k is k mod 256. */
const FLOOD_BYTES = 24 * 1024 * 1024;

function engineSuite(engine: 'inline' | 'worker'): void {
  const test = suite<{ n: TestNode; up: Awaited<ReturnType<typeof upstream>> }>(`exec: the wasi:http world (${engine})`);

  test.before(async (ctx) => {
    ctx.n = await startTestNode({ engine, workers: 2, instancesPerFunction: 4 });
    ctx.up = await upstream();
    assert.ok((await ctx.n.deploy('probe', await guest('worlds/http-probe-wat.wasm'), '?timeoutMs=2000')).ok);
    assert.ok((await ctx.n.deploy('flood', await guest('worlds/http-probe-wat.wasm'), '?timeoutMs=20000')).ok);
    assert.ok((await ctx.n.deploy('count', await guest('worlds/kv-counter-wat.wasm'))).ok);
    const host = new URL(ctx.up.url).host;
    assert.ok((await ctx.n.deploy('fetcher', await guest('worlds/http-echo.wasm'), `?allowHost=${host}&timeoutMs=3000`)).ok);
  });
  test.after(async (ctx) => {
    await ctx.up.close();
    await ctx.n.close();
  });

  test('method, path, query, headers and body reach the guest; its status, headers and body come back', async ({ n }) => {
    const body = 'b'.repeat(150);
    const res = await n.call('probe', { path: '/some/path?q=1&r=2', method: 'PUT', headers: { 'x-thing': 'ünïcode', 'x-other': 'two' }, body });
    assert.is(res.status, 203); // 200 + PUT's case in the method variant
    assert.is(res.headers.get('x-echo'), 'wat');
    // Header values are bytes (fetch sends this one as Latin-1): the guest gets them byte for byte.
    const lines = Buffer.from(await res.arrayBuffer()).toString('latin1').split('\n');
    assert.is(lines[0], '/some/path?q=1&r=2');
    assert.ok(lines.includes('x-thing: ünïcode'), lines.join('|'));
    assert.ok(lines.includes('x-other: two'));
    assert.ok(lines.includes('content-length: 150'));
    // Read in 64-byte pieces, written back piece by piece.
    assert.is(lines.at(-1), body);
    if (engine === 'inline') assert.is(await workersRunning(n), 0, 'no worker was needed');
  });

  test('every concurrent request gets its own reply', async ({ n }) => {
    const ids = Array.from({ length: 40 }, (_, i) => `${i}x${Math.random().toString(36).slice(2)}`);
    const replies = await Promise.all(ids.map((id) => n.call('probe', { path: `/r/${id}`, method: 'POST', body: `body-${id}` }).then((r) => r.text())));
    replies.forEach((text, i) => {
      const lines = text.split('\n');
      assert.is(lines[0], `/r/${ids[i]}`);
      assert.is(lines.at(-1), `body-${ids[i]}`);
    });
  });

  test('each request has a fresh instance: what one wrote to its memory, the next does not see', async ({ n }) => {
    // Instances reuse the memories of finished ones, zeroed: a memory handed on as it was left
    // would answer "1".
    for (let i = 0; i < 6; i++) assert.is(await (await n.call('probe', { path: '/mark' })).text(), '0', `call ${i}`);
    const together = await Promise.all(Array.from({ length: 12 }, () => n.call('probe', { path: '/mark' }).then((r) => r.text())));
    assert.equal(together, Array(12).fill('0'));
    // Also after calls that trapped or ran out their time.
    await n.call('probe', { path: '/loop' });
    for (let i = 0; i < 3; i++) assert.is(await (await n.call('probe', { path: '/mark' })).text(), '0');
  });

  test('a guest that waits on a timer streams: what it wrote before arrives before the rest', async ({ n }) => {
    const res = await n.call('probe', { path: '/wait' });
    assert.is(res.status, 200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const first = await reader.read();
    const firstAt = performance.now();
    let text = decoder.decode(first.value, { stream: true });
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value, { stream: true });
    assert.is(decoder.decode(first.value), 'first\n');
    assert.is(text, 'first\nsecond\n');
    // The guest waits 100 ms between the two: the first part did not wait for the second.
    assert.ok(performance.now() - firstAt >= 50, `the rest came ${(performance.now() - firstAt).toFixed(0)} ms after the first part`);
  });

  test("the guest's error response and a wrong content-length are ERR_GUEST_BAD_RESPONSE", async ({ n }) => {
    const err = await n.call('probe', { path: '/err' });
    assert.is(err.status, 502);
    const e = await errorOf(err);
    assert.is(e.code, 'ERR_GUEST_BAD_RESPONSE');
    assert.match(e.message, 'internal-error (boom)');
    const short = await errorOf(await n.call('probe', { path: '/short' }));
    assert.is(short.code, 'ERR_GUEST_BAD_RESPONSE');
    assert.match(short.message, 'content-length says 10');
  });

  test('an endless loop ends at its timeout, and others answer meanwhile', async ({ n }) => {
    const looping = n.call('probe', { path: '/loop' });
    const other = await n.call('probe', { path: '/meanwhile' });
    assert.is(other.status, 200);
    assert.is((await other.text()).split('\n')[0], '/meanwhile');
    const res = await looping;
    assert.is(res.status, 504);
    assert.is((await errorOf(res)).code, 'ERR_TIMEOUT');
    assert.is((await n.call('probe', { path: '/after' })).status, 200);
  });

  test('a guest still waiting at its timeout: its streamed response is cut, what it writes later reaches nobody', async ({ n }) => {
    assert.ok((await n.deploy('hasty', await guest('worlds/http-probe-wat.wasm'), '?timeoutMs=50')).ok);
    // Its own instances (it shares only compiled code with `probe`): loaded by a first call, which
    // within 50 ms a worker of a slow machine may not finish, then made ahead of the next.
    for (let i = 0; i < 10; i++) {
      const warm = await n.call('hasty', { path: '/x' });
      await warm.arrayBuffer();
      if (warm.status === 200) break;
    }
    const res = await n.call('hasty', { path: '/wait' });
    assert.is(res.status, 200, 'the head went out before the guest waited');
    const text = await res.text().catch((err: Error) => `cut: ${err.message}`);
    assert.not.ok(text.includes('second'), text);
    // The guest's timer fires after the call was answered: the node takes no notice and serves on.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.is((await n.call('hasty', { path: '/x' })).status, 200);
    const logs = (await (await n.admin('GET', '/functions/hasty/logs')).json()) as { invocations: { error?: { code: string } }[] };
    // The newest last: the /wait before the /x.
    assert.is(logs.invocations.at(-2)?.error?.code, 'ERR_TIMEOUT');
  });

  test('a client that reads slowly makes the guest wait, not the node queue: 24 MiB arrive whole after a pause', async ({ n }) => {
    // The node cuts off a client that leaves more than 16 MiB unread: a guest that wrote on while
    // the client paused would have lost its response.
    for (const path of ['/flood', '/flood-blocking']) {
      const slow = readSlowly(`${n.url}/fn/flood${path}`, 1000, (k) => k % 256).catch((err: Error) => ({ failed: err.message }));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const other = await n.call('probe', { path: '/meanwhile' });
      assert.is((await other.text()).split('\n')[0], '/meanwhile', 'another call is answered while the flood waits');
      const got = await slow;
      assert.equal(got, { status: 200, bytes: FLOOD_BYTES, matches: true, complete: true }, path);
    }
    if (engine === 'inline') assert.is(await workersRunning(n), 0, 'no worker was needed');
  });

  test('a client that leaves: the waiting guest is told (its writes fail) and ends, long before its timeout', async ({ n }) => {
    type Logs = { invocations: { durationMs: number; status: number; error?: { code: string } }[] };
    const logs = async () => ((await (await n.admin('GET', '/functions/flood/logs')).json()) as Logs).invocations;
    const before = (await logs()).length;
    // The guest has written its window (1 MiB) and waits; the client takes 256 KiB and leaves.
    const read = await readAndLeave(`${n.url}/fn/flood/flood`, 500, 256 * 1024);
    assert.ok(read < FLOOD_BYTES / 2, `${read} bytes`);
    const started = performance.now();
    let entries = await logs();
    while (entries.length === before && performance.now() - started < 10_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      entries = await logs();
    }
    assert.is(entries.length, before + 1, 'the call ended within 10 s of the client leaving (its timeout is 20 s)');
    // The probe stops writing at the failed write and finishes its body: no fault of the guest's.
    const entry = entries.at(-1)!;
    assert.is(entry.error?.code, undefined);
    assert.is(entry.status, 200);
  });

  test("outgoing HTTP (a JS guest's fetch): each call gets its own upstream answer, waiting does not hold others", async ({ n, up }) => {
    const fetchPath = (i: number, ms = 0) => `/fetch?url=${encodeURIComponent(`${up.url}/u/${i}?ms=${ms}`)}`;
    const one = await n.call('fetcher', { method: 'POST', path: fetchPath(0), body: 'ping' });
    assert.is(await one.text(), 'upstream 201: POST /u/0?ms=0 yes ping');
    // A slow upstream answer (1.5 s): the guest waits for it while other calls are answered.
    const slow = n.call('fetcher', { path: fetchPath(99, 1500) }).then(async (r) => ({ text: await r.text(), at: performance.now() }));
    let firstAt = Infinity;
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        n.call('fetcher', { method: 'POST', path: fetchPath(i + 1), body: `b${i + 1}` }).then(async (r) => {
          const text = await r.text();
          firstAt = Math.min(firstAt, performance.now());
          return text;
        }),
      ),
    );
    replies.forEach((text, i) => assert.is(text, `upstream 201: POST /u/${i + 1}?ms=0 yes b${i + 1}`));
    const late = await slow;
    assert.is(late.text, 'upstream 201: GET /u/99?ms=1500 yes ');
    assert.ok(firstAt < late.at, 'another call was answered while the slow one waited');
    // Refused by the allow-list: the guest hears it as a failed fetch.
    const refused = await n.call('fetcher', { path: `/fetch?url=${encodeURIComponent('http://127.0.0.1:9/x')}` });
    assert.is(refused.status, 599);
    if (engine === 'inline') assert.is(await workersRunning(n), 0, 'no worker was needed');
  });

  test('wasi:keyvalue: concurrent increments lose nothing', async ({ n }) => {
    const answers = await Promise.all(Array.from({ length: 40 }, () => n.call('count').then((r) => r.text())));
    assert.equal(
      answers.map(Number).sort((a, b) => a - b),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    if (engine === 'inline') assert.is(await workersRunning(n), 0, 'no worker was needed');
  });

  test.run();
}

if (hasJspi) engineSuite('inline');
else console.log(`SKIPPED: exec: the wasi:http world (inline) — Node ${process.version} has no JSPI`);
engineSuite('worker');
