// X-Enoki-Call-* headers steer scheduling, so a node honours them only on another node's signed
// calls: from a plain client they are removed before anything sees them and change nothing.

import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { CallSigner } from '../../../runtime/invoke/call-signature.js';
import { guest, startTestNode, type TestNode } from '../../helpers/test-node.js';

const SECRET = 'a secret the test shares with the node';
const FORGED = { 'x-enoki-call-depth': '1', 'x-enoki-caller': 'made-up-caller', 'x-enoki-call-timeout-ms': '100000' };

interface LogEntry {
  invocationId: string;
  caller?: string;
}

const test = suite<{ n: TestNode }>('http: call headers only from nodes');
test.before(async (ctx) => {
  // One worker, and room for 8 more that only callees may start.
  ctx.n = await startTestNode({ engine: 'worker', workers: 1, callWorkers: 8, maxCallDepth: 2, callSecret: SECRET });
  for (const [name, file] of [
    ['echo', 'echo'],
    ['misbehave', 'fixtures/misbehave.wasm'],
  ]) {
    assert.ok((await ctx.n.deploy(name, await guest(file))).ok);
  }
});
test.after(async (ctx) => {
  await ctx.n.close();
});

async function gauge(n: TestNode, name: string): Promise<number> {
  const text = await (await fetch(`${n.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1]);
}

async function logs(n: TestNode, fn: string): Promise<LogEntry[]> {
  return ((await (await n.admin('GET', `/functions/${fn}/logs`)).json()) as { invocations: LogEntry[] }).invocations;
}

test('forged headers are removed before the guest sees them and name no caller', async ({ n }) => {
  const res = await n.call('echo', { headers: { ...FORGED, 'x-enoki-call-depth': '7', 'x-enoki-call-signature-ish': 'x', 'x-other': 'kept' } });
  // A depth beyond the node's limit would be refused (508): ignored, the call runs.
  assert.is(res.status, 200);
  const echoed = (await res.json()) as { headers: [string, string][] };
  assert.equal(echoed.headers.filter(([k]) => k.startsWith('x-enoki-call')), []);
  assert.ok(echoed.headers.some(([k, v]) => k === 'x-other' && v === 'kept'));
  const entry = (await logs(n, 'echo')).find((e) => e.invocationId === res.headers.get('x-enoki-invocation-id'));
  assert.ok(entry);
  assert.is(entry!.caller, undefined);
});

test('forged headers start no extra workers', async ({ n }) => {
  const calls = Array.from({ length: 6 }, () => n.call('misbehave', { path: '/slow?ms=200', headers: FORGED }));
  for (const res of await Promise.all(calls)) assert.is(res.status, 200);
  assert.is(await gauge(n, 'enoki_workers'), 1);
});

test('a forged call does not overtake an ordinary one queued before it', async ({ n }) => {
  const order: string[] = [];
  const busy = n.call('misbehave', { path: '/slow?ms=800' });
  for (let i = 0; i < 200 && (await gauge(n, 'enoki_workers_busy')) < 1; i++) await new Promise((r) => setTimeout(r, 10));
  const ordinary = n.call('misbehave', { path: '/slow?ms=10' }).then(async (r) => (await r.arrayBuffer(), order.push('ordinary')));
  for (let i = 0; i < 200 && (await gauge(n, 'enoki_queue_length')) < 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.is(await gauge(n, 'enoki_queue_length'), 1, 'the ordinary call waits');
  const forged = n.call('misbehave', { path: '/ok', headers: FORGED }).then(async (r) => (await r.arrayBuffer(), order.push('forged')));
  await Promise.all([busy, ordinary, forged]);
  assert.equal(order, ['ordinary', 'forged']);
  assert.is(await gauge(n, 'enoki_workers'), 1);
});

function signed(depth: string, options: { target?: string; caller?: string; method?: string } = {}) {
  const caller = options.caller ?? 'node-caller-1';
  const signature = new CallSigner(SECRET, 30_000).sign({ method: options.method ?? 'GET', target: options.target ?? '/fn/echo', depth, caller, async: false });
  return { 'x-enoki-call-depth': depth, 'x-enoki-caller': caller, 'x-enoki-call-signature': signature };
}

test("a node's signed call is honoured: its caller is logged, its depth counts", async ({ n }) => {
  const res = await n.call('echo', { headers: signed('1') });
  assert.is(res.status, 200);
  const echoed = (await res.json()) as { headers: [string, string][] };
  assert.is(echoed.headers.find(([k]) => k === 'x-enoki-call-depth')?.[1], '1');
  assert.not.ok(echoed.headers.some(([k]) => k === 'x-enoki-call-signature'), 'the signature itself is not passed on');
  const entry = (await logs(n, 'echo')).find((e) => e.invocationId === res.headers.get('x-enoki-invocation-id'));
  assert.is(entry?.caller, 'node-caller-1');
  const tooDeep = await n.call('echo', { headers: signed('3') });
  assert.is(tooDeep.status, 508);
});

test('a tampered, replayed or stale signature is refused with 401, and nothing runs', async ({ n }) => {
  const before = (await logs(n, 'echo')).length;
  const tampered = { ...signed('1'), 'x-enoki-caller': 'someone-else' };
  const elsewhere = signed('1', { target: '/fn/misbehave/ok' });
  const replayed = signed('1');
  assert.is((await n.call('echo', { headers: replayed })).status, 200);
  const stale = new CallSigner(SECRET, 30_000, () => Date.now() - 60_000).sign({ method: 'GET', target: '/fn/echo', depth: '1', caller: 'c', async: false });
  for (const headers of [tampered, elsewhere, replayed, { 'x-enoki-call-depth': '1', 'x-enoki-caller': 'c', 'x-enoki-call-signature': stale }]) {
    const res = await n.call('echo', { headers });
    assert.is(res.status, 401);
    assert.is(res.headers.get('x-enoki-error-code'), 'ERR_CALL_SIGNATURE_INVALID');
  }
  assert.is((await logs(n, 'echo')).length, before + 1, 'only the first use of the signature ran');
});

test.run();

const unkeyed = suite<{ n: TestNode }>('http: call signatures on a node without a secret');
unkeyed.before(async (ctx) => {
  ctx.n = await startTestNode({ workers: 1 });
  assert.ok((await ctx.n.deploy('echo', await guest('echo'))).ok);
});
unkeyed.after(async (ctx) => {
  await ctx.n.close();
});

unkeyed('a signature it cannot check is refused, naming the missing secret', async ({ n }) => {
  const res = await n.call('echo', { headers: signed('1') });
  assert.is(res.status, 401);
  assert.match(((await res.json()) as { error: { message: string } }).error.message, /ENOKI_CALL_SECRET/);
  assert.is((await n.call('echo', { headers: FORGED })).status, 200);
});

unkeyed.run();
