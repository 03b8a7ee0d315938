// Async invocations over HTTP: a refused request never runs, a missing function is a 404, results
// live on disk with a size cap, survive a restart, and are read with the invoker's credentials.

import fs from 'node:fs/promises';
import path from 'node:path';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { guest, startTestNode, type TestNode } from '../../helpers/test-node.js';

const asyncHeaders = (extra: Record<string, string> = {}) => ({ 'x-enoki-async': 'true', ...extra });
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

async function deployAll(n: TestNode): Promise<void> {
  for (const [name, file] of [
    ['counter', 'counter'],
    ['misbehave', 'fixtures/misbehave.wasm'],
  ]) {
    const res = await n.deploy(name, await guest(file));
    assert.ok(res.ok, `${name}: ${await res.text()}`);
  }
}

/** Polls the result until the invocation is no longer running. */
async function resultOf(n: TestNode, id: string, headers: Record<string, string>): Promise<Response> {
  for (let i = 0; i < 600; i++) {
    const res = await fetch(`${n.url}/invocations/${id}`, { headers });
    if (res.status !== 202) return res;
    await res.arrayBuffer();
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`invocation ${id} still running`);
}

async function gauge(n: TestNode, name: string): Promise<number> {
  const text = await (await fetch(`${n.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1]);
}

const limits = suite<{ n: TestNode }>('http: async invocations are refused before they run');
limits.before(async (ctx) => {
  ctx.n = await startTestNode({ workers: 1, instancesPerFunction: 1, asyncResults: 1, maxQueue: 1 });
  await deployAll(ctx.n);
});
limits.after(async (ctx) => {
  await ctx.n.close();
});

limits('a request refused because every place is taken never runs', async ({ n }) => {
  // The only place is held by a running invocation.
  const slow = await n.call('misbehave', { path: '/slow?ms=1500', headers: asyncHeaders({ authorization: 'Bearer a' }) });
  assert.is(slow.status, 202);
  const { invocationId } = (await slow.json()) as { invocationId: string };
  const refused = await Promise.all(Array.from({ length: 20 }, () => n.call('counter', { headers: asyncHeaders() })));
  for (const res of refused) {
    assert.is(res.status, 503);
    assert.is(await errorOf(res), 'ERR_OVERLOADED');
  }
  assert.is((await resultOf(n, invocationId, { authorization: 'Bearer a' })).status, 200);
  // Had any of the 20 run, the count would be past 1.
  assert.is(await (await n.call('counter')).text(), '1');
});

limits('an async request to a function that does not exist is a 404 and takes no place', async ({ n }) => {
  const res = await n.call('nothing-here', { headers: asyncHeaders() });
  assert.is(res.status, 404);
  assert.is(await errorOf(res), 'ERR_FUNCTION_NOT_FOUND');
  const ok = await n.call('counter', { headers: asyncHeaders() });
  assert.is(ok.status, 202);
  const { invocationId, resultToken } = (await ok.json()) as { invocationId: string; resultToken: string };
  assert.is((await resultOf(n, invocationId, { 'x-enoki-result-token': resultToken })).status, 200);
});

limits('with the worker queue full, an async request is refused and does not run', async ({ n }) => {
  const before = Number(await (await n.call('counter')).text());
  // One call runs, one waits: the queue (ENOKI_MAX_QUEUE=1) is full.
  const running = n.call('misbehave', { path: '/slow?ms=1500' });
  const queued = n.call('misbehave', { path: '/slow?ms=10' });
  for (let i = 0; i < 200 && (await gauge(n, 'enoki_queue_length')) < 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.is(await gauge(n, 'enoki_queue_length'), 1);
  const res = await n.call('counter', { headers: asyncHeaders() });
  assert.is(res.status, 503);
  assert.is(await errorOf(res), 'ERR_OVERLOADED');
  assert.is((await running).status, 200);
  assert.is((await queued).status, 200);
  assert.is(await (await n.call('counter')).text(), String(before + 1));
});

limits.run();

const results = suite<{ n: TestNode }>('http: async results are on disk, bounded and kept');
results.before(async (ctx) => {
  ctx.n = await startTestNode({ asyncResultMaxBytes: 1024 * 1024 });
  await deployAll(ctx.n);
});
results.after(async (ctx) => {
  await ctx.n.close();
});

results('a result is written to the data directory, streamed back, and kept across a restart', async ({ n }) => {
  const auth = { authorization: 'Bearer alice' };
  const res = await n.call('misbehave', { path: '/big?bytes=700000', headers: asyncHeaders(auth) });
  assert.is(res.status, 202);
  const body = (await res.json()) as { invocationId: string; resultToken?: string };
  assert.is(body.resultToken, undefined, 'credentials given: no token');
  const first = await resultOf(n, body.invocationId, auth);
  assert.is(first.status, 200);
  assert.is(first.headers.get('content-type'), 'application/octet-stream');
  assert.is((await first.arrayBuffer()).byteLength, 700000);
  const file = path.join(n.dataDir, 'async-results', `${body.invocationId}.body`);
  assert.is((await fs.stat(file)).size, 700000);

  await n.restart();
  const again = await fetch(`${n.url}/invocations/${body.invocationId}`, { headers: auth });
  assert.is(again.status, 200);
  assert.is(again.headers.get('x-enoki-invocation-state'), 'done');
  assert.is((await again.arrayBuffer()).byteLength, 700000);
  assert.is((await fetch(`${n.url}/invocations/${body.invocationId}`, { headers: { authorization: 'Bearer bob' } })).status, 404);
  assert.is((await n.admin('GET', `/invocations/${body.invocationId}`)).status, 200);
});

results('a response over ENOKI_ASYNC_RESULT_MAX_BYTES is not kept; the result says so', async ({ n }) => {
  const res = await n.call('misbehave', { path: '/big?bytes=2000000', headers: asyncHeaders() });
  const { invocationId, resultToken } = (await res.json()) as { invocationId: string; resultToken: string };
  const result = await resultOf(n, invocationId, { 'x-enoki-result-token': resultToken });
  assert.is(result.status, 502);
  assert.is(result.headers.get('x-enoki-invocation-state'), 'failed');
  assert.is(await errorOf(result), 'ERR_ASYNC_RESULT_TOO_LARGE');
  assert.not.ok(await fs.stat(path.join(n.dataDir, 'async-results', `${invocationId}.body`)).catch(() => undefined));
});

results('a failed invocation keeps its error for the same reader', async ({ n }) => {
  const res = await n.call('misbehave', { path: '/throw', headers: asyncHeaders() });
  const { invocationId, resultToken } = (await res.json()) as { invocationId: string; resultToken: string };
  const result = await resultOf(n, invocationId, { 'x-enoki-result-token': resultToken });
  assert.is(result.status, 500);
  const { error } = (await result.json()) as { error: { code: string; message: string } };
  assert.is(error.code, 'ERR_GUEST_ERROR');
  assert.match(error.message, /Error: boom/);
});

results.run();
