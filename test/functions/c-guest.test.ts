// A component written in C, as a C user builds it: bindings from `wit-bindgen c`, clang for
// wasm32-wasi against wasi-libc, made a component with the WASI preview1 adapter (source and build
// script in test/fixtures/c/, the built component kept there since CI has no C toolchain for
// WebAssembly). Its libc brings WASI imports of its own (environment, clocks, stdio, files), its
// bindings hand the handler arguments it must free and free what it answers with, and its
// allocator grows memory until the node's cap says no. On Node 24 it runs on the event loop, on
// Node 20 on a worker: each run of the suite covers one engine.

import fs from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { guest, startTestNode, type TestNode } from '../helpers/test-node.js';

const GUEST = fileURLToPath(new URL('../../../test/fixtures/c/enoki-guest.wasm', import.meta.url));
const MEMORY_MIB = 32;

interface LogLine {
  stream: string;
  message: string;
}

const test = suite<{ n: TestNode; world: string }>('functions: a C guest');

test.before(async (ctx) => {
  ctx.n = await startTestNode({ workers: 1 });
  const res = await ctx.n.deploy('cg', await fs.readFile(GUEST), `?timeoutMs=1500&memoryMiB=${MEMORY_MIB}&env=GREETING%3Dhello&env=STAGE%3Dtest`);
  const answer = await res.json();
  assert.is(res.status, 201, JSON.stringify(answer));
  ctx.world = answer.world;
  assert.is((await ctx.n.deploy('hello', await guest('hello'))).status, 201);
});
test.after(async (ctx) => {
  await ctx.n.close();
});

async function text(n: TestNode, path: string, init: RequestInit = {}): Promise<string> {
  const res = await n.call('cg', { ...init, path });
  const body = await res.text();
  assert.is(res.status, 200, `${path}: ${body}`);
  return body;
}

async function failure(n: TestNode, path: string): Promise<{ code: string; message: string }> {
  const res = await n.call('cg', { path });
  assert.is(res.status >= 500, true, `${path} answered ${res.status}`);
  return (await res.json()).error;
}

test('deploys as Enoki\'s world', async ({ world }) => {
  assert.is(world, 'enoki:faas/function');
});

test("its constructor runs as the instance is made, with the function's environment; what it prints opens the first call's log", async ({ n }) => {
  assert.is(await text(n, '/env'), 'at start: GREETING=hello\ngetenv: GREETING=hello STAGE=test\nenv.get: STAGE=test');
  const { invocations } = await (await n.admin('GET', '/functions/cg/logs?limit=1')).json();
  assert.equal(invocations[0].lines as LogLine[], [
    { stream: 'stdout', message: 'started with GREETING=hello' },
    { stream: 'debug', message: 'GET /env' },
  ]);
});

test("on a node that prewarms, the instance is made before any call: what its constructor printed still opens the first call's log", async () => {
  const n = await startTestNode({ workers: 1, prewarm: true });
  try {
    assert.is((await n.deploy('cg', await fs.readFile(GUEST), '?env=GREETING%3Dearly')).status, 201);
    const warm = async () => ((await (await fetch(`${n.url}/metrics.json`)).json()) as { node: { warmInstances: number } }).node.warmInstances;
    for (let i = 0; i < 100 && (await warm()) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.is(await warm(), 1, 'the deploy made a warm instance');
    assert.match(await (await n.call('cg', { path: '/env' })).text(), /^at start: GREETING=early\n/);
    const { invocations } = await (await n.admin('GET', '/functions/cg/logs')).json();
    assert.is(invocations.length, 1);
    assert.equal((invocations[0].lines as LogLine[])[0], { stream: 'stdout', message: 'started with GREETING=early' });
    assert.is(invocations[0].cold, false, 'the call found the instance warm');
  } finally {
    await n.close();
  }
});

test('nanosleep sleeps at least what it asks, by the monotonic clock', async ({ n }) => {
  for (const ms of [1, 3, 20]) assert.match(await text(n, `/sleep?${ms}`), /^slept \d+$/);
});

test('stdout and stderr become the call\'s log lines', async ({ n }) => {
  assert.is(await text(n, '/print'), 'printed');
  const { invocations } = await (await n.admin('GET', '/functions/cg/logs?limit=1')).json();
  assert.equal((invocations[0].lines as LogLine[]).filter((l) => l.stream !== 'debug'), [
    { stream: 'stdout', message: 'a line on stdout' },
    { stream: 'stderr', message: 'a line on stderr' },
  ]);
});

test("the host's files are out of reach: no directory is preopened", async ({ n }) => {
  assert.is(await text(n, '/file'), 'refused: Capabilities insufficient');
});

test('kv: set-many, get-many, scan, keys, delete, and a delete of an absent id as an error value', async ({ n }) => {
  assert.is(
    await text(n, '/kv', { method: 'POST', body: 'a=1,b=2,c=3' }),
    'got 1 2 3\nscan a=1 b=2 c=3\nkeys a b c\nafter delete: (none)\nkv error not-found: no item "absent" to delete',
  );
  const b = await (await n.admin('GET', '/keygroups/cg/items/b')).json();
  assert.equal(b.siblings.map((s: { value: string }) => s.value), ['2']);
  assert.is((await n.admin('GET', '/keygroups/cg/items/a')).status, 404);
});

test('atomics: increment, and compare-and-swap refusing a stale version and taking the current one', async ({ n }) => {
  assert.is(await text(n, '/count', { method: 'POST' }), 'count 1, stale swap false, current swap true');
  assert.is(await text(n, '/count', { method: 'POST' }), 'count 11, stale swap false, current swap true');
});

test('invoke: a call to another function, and to none', async ({ n }) => {
  assert.is(await text(n, '/call?hello'), '200 hello from wat\n');
  assert.match(await text(n, '/call?nobody'), /^call failed \(0\): ERR_FUNCTION_NOT_FOUND/);
});

test("malloc fails at the function's memory cap and the guest goes on; so does its instance", async ({ n }) => {
  const first = /^malloc failed after (\d+) MiB$/.exec(await text(n, '/grow'));
  assert.ok(first, 'the guest saw malloc fail');
  const got = Number(first![1]);
  assert.ok(got >= MEMORY_MIB - 4 && got < MEMORY_MIB, `${got} MiB of a ${MEMORY_MIB} MiB cap`);
  // What it freed is its own again: the same again, from the same instance.
  assert.is(await text(n, '/grow'), `malloc failed after ${got} MiB`);
});

test('an abort, a loop and a stack overflow each end in a typed error; the node serves on', async ({ n }) => {
  // The instance sits at its memory cap since /grow; the abort is a trap of the guest's own, not
  // the memory limit.
  await text(n, '/grow');
  const abort = await failure(n, '/abort');
  assert.is(abort.code, 'ERR_GUEST_TRAP');
  assert.match(abort.message, /^cg: .*unreachable/);
  assert.is((await failure(n, '/spin')).code, 'ERR_TIMEOUT');
  assert.is((await failure(n, '/deep')).code, 'ERR_GUEST_TRAP');
  assert.match(await text(n, '/env'), /^at start: GREETING=hello\n/);
});

test.run();
