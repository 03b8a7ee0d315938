// Guests on the event loop (exec/inline/): metered, so a busy guest neither blocks other calls
// for more than a time slice nor runs past its timeout; JS functions share one compiled engine
// template; components this host does not bind itself (WASI resources) run on workers. Needs
// JSPI (Node 24+): on an older Node the whole suite is skipped, and the rest of the test suite
// covers the worker engine there.
import fs from 'node:fs/promises';
import path from 'node:path';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { hasJspi } from '../../../runtime/exec/inline/jspi.js';
import { guest, startTestNode, type TestNode } from '../../helpers/test-node.js';

const test = suite<{ n: TestNode }>('exec: inline engine');

async function metric(n: TestNode, name: string): Promise<number> {
  const text = await (await fetch(`${n.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
}

test.before(async (ctx) => {
  ctx.n = await startTestNode({ engine: 'inline', timeSliceMs: 5 });
  for (const name of ['hello', 'echo', 'counter']) {
    const res = await ctx.n.deploy(name, await guest(name));
    assert.ok(res.ok, `deploy ${name}: ${await res.text()}`);
  }
  const res = await ctx.n.deploy('misbehave', await guest('fixtures/misbehave.wasm'), '?timeoutMs=3000&memoryMiB=64');
  assert.ok(res.ok, `deploy misbehave: ${await res.text()}`);
  // The same guest with time to spare: its busy-wait is calibrated, a loaded machine runs it slower.
  const spinner = await ctx.n.deploy('spinner', await guest('fixtures/misbehave.wasm'), '?timeoutMs=120000');
  assert.ok(spinner.ok, `deploy spinner: ${await spinner.text()}`);
  // A guest that imports nothing that waits: called on the plain stack until it outruns a slice.
  for (const [name, options] of [['spin', '?timeoutMs=120000'], ['spinloop', '?timeoutMs=3000']]) {
    const res = await ctx.n.deploy(name, await guest('fixtures/spin.wasm'), options);
    assert.ok(res.ok, `deploy ${name}: ${await res.text()}`);
  }
});
test.after(async (ctx) => ctx.n.close());

/** How long each of `count` calls of hello took, made one after another. */
async function helloWaits(n: TestNode, count: number): Promise<number[]> {
  const waits: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    assert.is((await n.call('hello')).status, 200);
    waits.push(performance.now() - t);
  }
  return waits;
}

/** A looping call started at `t`, with a timeout of 3 s, ends in 504 ERR_TIMEOUT at that timeout while hello answers. */
async function endsAtTimeout(n: TestNode, looping: Promise<Response>, t: number): Promise<void> {
  assert.is((await n.call('hello')).status, 200);
  const res = await looping;
  const elapsed = performance.now() - t;
  assert.is(res.status, 504);
  assert.is(((await res.json()) as { error: { code: string } }).error.code, 'ERR_TIMEOUT');
  assert.ok(elapsed >= 2900 && elapsed < 8000, `ended after ${elapsed.toFixed(0)} ms`);
}

test('JS and WAT guests answer without any worker thread', async ({ n }) => {
  assert.is(await (await n.call('hello')).text(), 'hello from wat\n');
  assert.is((await n.call('echo', { method: 'POST', body: 'x' })).status, 200);
  assert.is(await (await n.call('counter')).text(), '1');
  assert.is(await metric(n, 'enoki_workers'), 0);
});

test('a busy guest does not hold up another guest beyond a time slice', async ({ n }) => {
  await n.call('spinner', { path: '/ok' });
  const busy = n.call('spinner', { path: '/slow?ms=2000' });
  await new Promise((r) => setTimeout(r, 100));
  const waits = await helloWaits(n, 5);
  const slow = await busy;
  assert.is(slow.status, 200, await slow.text());
  // Without slicing each would wait for the 2 s guest; with it, for a slice of 5 ms. The bound is
  // loose for a shared machine and still an order of magnitude below the busy guest's time.
  assert.ok(Math.max(...waits) < 400, `hello waited ${waits.map((w) => w.toFixed(0)).join(', ')} ms`);
});

/** The log lines of a function's newest invocation. */
async function lastLines(n: TestNode, fn: string): Promise<string[]> {
  const { invocations } = (await (await n.admin('GET', `/functions/${fn}/logs?limit=1`)).json()) as { invocations: { lines: { message: string }[] }[] };
  return invocations[0].lines.map((l) => l.message);
}

test('a guest that cannot wait, past its time slice, is made again where it can yield: one answer, one log, others served', async ({ n }) => {
  // Short calls: on the plain stack, within a slice.
  const quick = await n.call('spin', { method: 'POST', body: '' });
  assert.is(quick.status, 200);
  assert.is(await quick.text(), 'spun');
  assert.equal(await lastLines(n, 'spin'), ['spinning']);
  // About 400 million steps: far more than a slice of 5 ms on any machine.
  const long = n.call('spin', { method: 'POST', body: 'x'.repeat(400) });
  await new Promise((r) => setTimeout(r, 50));
  const waits = await helloWaits(n, 3);
  const res = await long;
  assert.is(res.status, 200, await res.clone().text());
  assert.is(await res.text(), 'spun');
  // The stopped first run left nothing in the log: the one line is the second run's.
  assert.equal(await lastLines(n, 'spin'), ['spinning']);
  assert.ok(Math.max(...waits) < 400, `hello waited ${waits.map((w) => w.toFixed(0)).join(', ')} ms`);
  // Later calls go where they can yield from the start, and answer the same.
  const again = await n.call('spin', { method: 'POST', body: 'x' });
  assert.is(await again.text(), 'spun');
});

test('an endless loop in a guest that cannot wait ends at its timeout with 504', async ({ n }) => {
  const t = performance.now();
  // 10^11 steps: past any timeout.
  await endsAtTimeout(n, n.call('spinloop', { method: 'POST', body: 'x'.repeat(100_000) }), t);
  assert.is((await n.call('spinloop', { method: 'POST', body: '' })).status, 200);
});

test('an endless loop ends at its timeout with 504 while others keep answering', async ({ n }) => {
  const t = performance.now();
  await endsAtTimeout(n, n.call('misbehave', { path: '/loop' }), t);
  assert.is((await n.call('misbehave', { path: '/ok' })).status, 200);
});

test("a loop in the guest's allocator or post-return, which cannot yield, is stopped as a trap long before the timeout", async ({ n }) => {
  for (const name of ['realloc-loop', 'post-return-loop']) {
    // A timeout far off: only the node's bound on a host call into the guest ends these calls.
    assert.ok((await n.deploy(name, await guest(`fixtures/${name}.wasm`), '?timeoutMs=20000')).ok, name);
    const res = await n.call(name, { method: 'POST', body: 'hello' });
    assert.is(res.status, 500, name);
    const error = ((await res.json()) as { error: { code: string; message: string } }).error;
    assert.is(error.code, 'ERR_GUEST_TRAP', name);
    assert.match(error.message, /allocator or post-return function ran for more than \d+ ms/);
    assert.is((await n.call('hello')).status, 200);
  }
});

test('a memory bomb and a trap end in typed errors, and the function answers again', async ({ n }) => {
  const bomb = await n.call('misbehave', { path: '/membomb' });
  assert.is(bomb.status, 500);
  assert.is(((await bomb.json()) as { error: { code: string } }).error.code, 'ERR_MEMORY_LIMIT');
  const trap = await n.call('misbehave', { path: '/trap' });
  assert.is(((await trap.json()) as { error: { code: string } }).error.code, 'ERR_GUEST_TRAP');
  assert.is((await n.call('misbehave', { path: '/ok' })).status, 200);
});

test('JS functions share one compiled engine template', async ({ n }) => {
  // Every JS function deployed here (echo, counter, misbehave) ran; the engine's template is one
  // file of ~10 MB; each function adds only small templates of its other modules.
  const dir = path.join(n.dataDir, 'templates');
  const sizes = await Promise.all((await fs.readdir(dir, { recursive: true })).filter((f) => f.endsWith('.wasm')).map(async (f) => (await fs.stat(path.join(dir, f))).size));
  const engines = sizes.filter((s) => s > 1_000_000);
  assert.ok(engines.length >= 1 && engines.length <= 2, `engine-sized templates: ${engines.length}`);
});

test('a guest built with the random feature runs inline and draws fresh ids', async ({ n }) => {
  const res = await n.deploy('write', await guest('write'));
  assert.ok(res.ok, await res.text());
  const ids = new Set<string>();
  for (let i = 0; i < 5; i++) {
    const call = await n.call('write', { method: 'POST', body: '0-16' });
    assert.is(call.status, 200, await call.clone().text());
    ids.add(await call.text());
  }
  assert.is(ids.size, 5, 'five calls, five different random ids');
  assert.is(await metric(n, 'enoki_workers'), 0);
});

test('a guest built with stdio, random and clocks runs inline; its output lands in its log', async ({ n }) => {
  const res = await n.deploy('stdio', await guest('fixtures/stdio.wasm'));
  assert.ok(res.ok, await res.text());
  const call = await n.call('stdio', { path: '/print?q=inline' });
  assert.is(call.status, 200, await call.text());
  const { invocations } = (await (await n.admin('GET', '/functions/stdio/logs?limit=1')).json()) as {
    invocations: { lines: { stream: string; message: string }[] }[];
  };
  assert.ok(invocations[0].lines.some((l) => l.stream === 'stdout' && l.message.includes('to stdout q=inline')), JSON.stringify(invocations[0].lines));
  assert.ok(invocations[0].lines.some((l) => l.stream === 'stderr' && l.message.includes('to stderr')));
  assert.is(await metric(n, 'enoki_workers'), 0);
});

test("a deploy makes its engine's template: the first call after a restart does not", async () => {
  const m = await startTestNode({ engine: 'inline' });
  try {
    const templates = async () => (await fs.readdir(path.join(m.dataDir, 'templates'), { recursive: true }).catch(() => [] as string[])).filter((f) => f.endsWith('.wasm'));
    assert.equal(await templates(), [], 'a new node has none');
    assert.ok((await m.deploy('echo', await guest('echo'))).ok);
    const made = await templates();
    assert.ok(made.length > 0, 'made before any call');
    // Kept: the call finds them and makes none.
    assert.is((await m.call('echo', { method: 'POST', body: 'x' })).status, 200);
    assert.equal(await templates(), made);
  } finally {
    await m.close();
  }
});

test('a function loaded before its engine template gained parameters is moved to the new one, and stays warm', async () => {
  // A node of its own, so that its template families start empty: echo's constants become the JS
  // engine family's reference, counter's differ from them, and the family's template is rebuilt
  // with those sites as parameters, leaving echo's warm instance on the outdated compiled engine.
  const m = await startTestNode({ engine: 'inline' });
  try {
    assert.ok((await m.deploy('echo', await guest('echo'))).ok);
    assert.is((await m.call('echo', { method: 'POST', body: 'x' })).status, 200);
    assert.ok((await m.deploy('counter', await guest('counter'))).ok);
    assert.is(await (await m.call('counter')).text(), '1');
    const dir = path.join(m.dataDir, 'templates');
    const families = await Promise.all((await fs.readdir(dir, { recursive: true })).filter((f) => f.endsWith('.json')).map(async (f) => JSON.parse(await fs.readFile(path.join(dir, f), 'utf8')) as { paramSites: number[] }));
    assert.ok(families.some((f) => f.paramSites.length > 0), 'the JS engine family gained parameters');
    // Reloading echo runs in the background; then calling it changes nothing: it no longer holds an outdated engine.
    let held = NaN;
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 20));
      held = await metric(m, 'enoki_compiled_modules');
      if (held === (await metric(m, 'enoki_compiled_modules'))) break;
    }
    assert.is(await metric(m, 'enoki_warm_instances'), 2, 'both still warm');
    assert.is((await m.call('echo', { method: 'POST', body: 'y' })).status, 200);
    assert.is(await metric(m, 'enoki_compiled_modules'), held, 'calling echo released no outdated template');
  } finally {
    await m.close();
  }
});

if (hasJspi) test.run();
else console.log(`SKIPPED: exec: inline engine — this Node (${process.version}) has no JSPI; the worker engine runs every guest here`);
