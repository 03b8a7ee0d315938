// Offloading (exec/engine-router.ts): on the inline engine the event loop runs one guest at a
// time, so with ENOKI_OFFLOAD_MS=1 calls of a function that holds the loop for a millisecond or
// more go to worker threads when they would wait for the loop behind one another. Light calls,
// and a lone client's calls made one after another, stay on the loop; the default,
// ENOKI_OFFLOAD_MS=0, keeps every call there. Needs JSPI (Node 24+): without it every guest
// already runs on workers.
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { hasJspi } from '../../../runtime/exec/inline/jspi.js';
import { guest, startTestNode, type TestNode } from '../../helpers/test-node.js';

const test = suite<{ n: TestNode; off: TestNode }>('exec: offloading heavy calls to workers');

async function metric(n: TestNode, name: string): Promise<number> {
  const text = await (await fetch(`${n.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
}

test.before(async (ctx) => {
  ctx.n = await startTestNode({ engine: 'auto', offloadMs: 1, workers: 2 });
  ctx.off = await startTestNode({ engine: 'auto', offloadMs: 0, workers: 2 });
  const misbehave = await guest('fixtures/misbehave.wasm');
  for (const n of [ctx.n, ctx.off]) {
    for (const name of ['heavy', 'lone', 'tally']) {
      const res = await n.deploy(name, misbehave, '?timeoutMs=60000');
      assert.ok(res.ok, `deploy ${name}: ${await res.text()}`);
    }
    assert.ok((await n.deploy('hello', await guest('hello'))).ok);
  }
});
test.after(async (ctx) => {
  await ctx.n.close();
  await ctx.off.close();
});

/** Calls `fn` busy for about 5 ms, `count` at once, each for its own number of iterations; checks each reply is its own. */
async function together(n: TestNode, fn: string, count: number, round: number): Promise<void> {
  const iterations = Array.from({ length: count }, (_, i) => 20_000 + round * 100 + i);
  const replies = await Promise.all(iterations.map((k) => n.call(fn, { path: `/slow?iterations=${k}` }).then(async (r) => [r.status, await r.text()] as const)));
  replies.forEach(([status, text], i) => {
    assert.is(status, 200, text);
    assert.match(text, new RegExp(`^spun ${iterations[i]} iterations`), `call ${i} of round ${round} got another call's reply: ${text}`);
  });
}

/** Makes the function's calls known to hold the loop (its first calls run there). */
async function warm(n: TestNode, fn: string): Promise<void> {
  for (let i = 0; i < 3; i++) assert.is((await n.call(fn, { path: '/slow?iterations=20000' })).status, 200);
}

test('heavy calls that arrive together are spread over workers, each answering its own request', async ({ n }) => {
  await warm(n, 'heavy');
  // The first round that finds the loop taken has a worker load the function in the background;
  // later rounds use it.
  let round = 0;
  while ((await metric(n, 'enoki_offloaded_calls_total')) === 0 && round < 40) {
    await together(n, 'heavy', 6, round++);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok((await metric(n, 'enoki_offloaded_calls_total')) > 0, `no call went to a worker in ${round} rounds`);
  assert.ok((await metric(n, 'enoki_workers')) >= 1);
  // And the rounds after that, with calls on both sides, still answer every call with its own reply.
  for (let i = 0; i < 5; i++) await together(n, 'heavy', 6, 100 + i);
});

test('calls on the loop and on workers share the keygroup: no increment is lost or counted twice', async ({ n }) => {
  const count = (path = '/slow-count?iterations=20000') => n.call('tally', { path }).then(async (r) => [r.status, await r.text()] as const);
  for (let i = 0; i < 3; i++) assert.is((await count())[0], 200);
  const before = await metric(n, 'enoki_offloaded_calls_total');
  const seen: number[] = [];
  let calls = 3;
  for (let round = 0; round < 40 && ((await metric(n, 'enoki_offloaded_calls_total')) === before || round < 5); round++) {
    const replies = await Promise.all(Array.from({ length: 6 }, () => count()));
    for (const [status, text] of replies) {
      assert.is(status, 200, text);
      seen.push(Number(text));
    }
    calls += replies.length;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok((await metric(n, 'enoki_offloaded_calls_total')) > before, 'no call of the counting function went to a worker');
  // Every increment answered a value of its own, and the last one counts every call.
  assert.is(new Set(seen).size, seen.length, 'two calls answered the same count');
  assert.is(Math.max(...seen), calls);
  assert.is((await count('/slow-count?iterations=0'))[1], String(calls + 1));
});

test("a lone client's heavy calls, one after another, stay on the event loop", async ({ n }) => {
  await warm(n, 'lone');
  // After the test above contention is past (it lasts 100 ms after calls last waited).
  await new Promise((r) => setTimeout(r, 200));
  const before = await metric(n, 'enoki_offloaded_calls_total');
  for (let i = 0; i < 20; i++) assert.is((await n.call('lone', { path: '/slow?iterations=20000' })).status, 200);
  assert.is(await metric(n, 'enoki_offloaded_calls_total'), before);
});

test('light calls stay on the event loop however many arrive together', async ({ n }) => {
  const before = await metric(n, 'enoki_offloaded_calls_total');
  for (let round = 0; round < 5; round++) {
    const replies = await Promise.all(Array.from({ length: 20 }, () => n.call('hello').then((r) => r.text())));
    for (const text of replies) assert.is(text, 'hello from wat\n');
  }
  assert.is(await metric(n, 'enoki_offloaded_calls_total'), before);
});

test('with ENOKI_OFFLOAD_MS=0 every call stays on the event loop', async ({ off }) => {
  await warm(off, 'heavy');
  for (let round = 0; round < 10; round++) await together(off, 'heavy', 6, round);
  assert.is(await metric(off, 'enoki_offloaded_calls_total'), 0);
  assert.is(await metric(off, 'enoki_workers'), 0);
});

if (hasJspi) test.run();
else console.log(`SKIPPED: exec: offloading heavy calls to workers — this Node (${process.version}) has no JSPI; the worker engine runs every guest here`);
