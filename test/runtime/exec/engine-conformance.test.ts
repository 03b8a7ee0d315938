// One suite of isolation and correctness cases, run against each engine adapter (exec/engine.ts):
// the inline engine (where this Node has JSPI) and the worker pool. Each case is what a user
// notices: answers, the guest's own errors, traps, endless loops and loop-free code that never
// ends, memory bombs (in memory and in tables), stack overflows, exact atomic counts under
// concurrency, every reply on its own call, log lines, and the node serving on after each.
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { hasJspi } from '../../../runtime/exec/inline/jspi.js';
import { guest, startTestNode, type TestNode } from '../../helpers/test-node.js';

const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

function engineSuite(engine: 'inline' | 'worker'): void {
  const test = suite<{ n: TestNode }>(`exec: engine conformance (${engine})`);

  test.before(async (ctx) => {
    ctx.n = await startTestNode({ engine, workers: 2, instancesPerFunction: 4 });
    for (const name of ['echo', 'counter', 'hello']) assert.ok((await ctx.n.deploy(name, await guest(name))).ok, name);
    assert.ok((await ctx.n.deploy('misbehave', await guest('fixtures/misbehave.wasm'), '?timeoutMs=2000&memoryMiB=64')).ok);
    assert.ok((await ctx.n.deploy('deep', await guest('fixtures/deep.wasm'))).ok);
    assert.ok((await ctx.n.deploy('abi-faults', await guest('fixtures/abi-faults.wasm'))).ok);
    assert.ok((await ctx.n.deploy('tablebomb', await guest('fixtures/tablebomb.wasm'))).ok);
    for (const name of ['recurse', 'fanout']) assert.ok((await ctx.n.deploy(name, await guest(`fixtures/${name}.wasm`), '?timeoutMs=1500')).ok, name);
    assert.ok((await ctx.n.deploy('hoard', await guest('worlds/http-hoard-wat.wasm'), '?timeoutMs=5000&memoryMiB=16')).ok);
    for (const name of ['start-fn', 'start-loop', 'memory-at-start', 'start-kv']) assert.ok((await ctx.n.deploy(name, await guest(`fixtures/${name}.wasm`), '?timeoutMs=3000')).ok, name);
    // One component deployed as two functions, each with its own environment.
    for (const [name, who] of [['ra', 'alice'], ['rb', 'bob']]) assert.ok((await ctx.n.deploy(name, await guest('fixtures/remembers.wasm'), `?env=WHO%3D${who}`)).ok, name);
    // Toolchains import wasi:sockets whether or not the guest uses it (componentize-py does).
    const sockets = await ctx.n.deploy('sockets', await guest('worlds/http-sockets-wat.wasm'));
    assert.is(sockets.status, 201, await sockets.clone().text());
  });
  test.after(async (ctx) => ctx.n.close());

  test('a guest answers, on the engine asked for', async ({ n }) => {
    assert.is(await (await n.call('hello')).text(), 'hello from wat\n');
    const text = await (await fetch(`${n.url}/metrics`)).text();
    const workers = Number(/^enoki_workers (\d+)/m.exec(text)?.[1]);
    if (engine === 'inline') assert.is(workers, 0);
    else assert.ok(workers >= 1);
  });

  test('functions deployed from one component never share an instance: what one kept, the other never sees', async ({ n }) => {
    const text = async (name: string) => (await n.call(name)).text();
    assert.is(await text('ra'), 'calls 1, first WHO alice, WHO now alice');
    assert.is(await text('ra'), 'calls 2, first WHO alice, WHO now alice', 'a function keeps its warm instance');
    assert.is(await text('rb'), 'calls 1, first WHO bob, WHO now bob');
    assert.is(await text('ra'), 'calls 3, first WHO alice, WHO now alice');
  });

  test('a redeploy of the same component with another environment starts on instances of its own', async ({ n }) => {
    await n.call('ra');
    const res = await n.deploy('ra', await guest('fixtures/remembers.wasm'), '?env=WHO%3Dcarol');
    assert.is(res.status, 200, await res.clone().text());
    assert.is((await res.json()).version, 'v2');
    assert.is(await (await n.call('ra')).text(), 'calls 1, first WHO carol, WHO now carol');
  });

  test("a guest's err is ERR_GUEST_ERROR and the next call works", async ({ n }) => {
    const res = await n.call('misbehave', { path: '/err' });
    assert.is(await errorCode(res), 'ERR_GUEST_ERROR');
    assert.is((await n.call('misbehave', { path: '/ok' })).status, 200);
  });

  test('a trap, a memory bomb and a stack overflow end in their codes; the node serves on', async ({ n }) => {
    assert.is(await errorCode(await n.call('misbehave', { path: '/trap' })), 'ERR_GUEST_TRAP');
    assert.is(await errorCode(await n.call('misbehave', { path: '/membomb' })), 'ERR_MEMORY_LIMIT');
    assert.is(await errorCode(await n.call('deep')), 'ERR_GUEST_TRAP');
    assert.is((await n.call('hello')).status, 200);
  });

  test('a guest that breaks the canonical ABI gets a typed error, the same on either engine', async ({ n }) => {
    const call = (faults: number) => n.call('abi-faults', { method: 'POST', body: 'x'.repeat(faults) });
    const good = await call(0);
    assert.is(await good.text(), 'ok');
    // Out-of-bounds strings, lists and results, invalid cases and UTF-8, a 2 GiB body, misalignment.
    for (const fault of [1, 2, 3, 4, 5, 7, 8, 9, 10]) {
      const res = await call(fault);
      assert.is(res.status, 500, `fault ${fault}`);
      assert.is(await errorCode(res), 'ERR_GUEST_TRAP', `fault ${fault}`);
    }
    // Status 99 is not HTTP's; 101 is an interim response's, not one a function answers with; a
    // content-length longer or shorter than the body would hang the client or corrupt the next
    // response on its connection; the connection is the node's to manage.
    for (const fault of [6, 11, 13, 14, 15]) {
      const badResponse = await call(fault);
      assert.is(badResponse.status, 502, `fault ${fault}`);
      assert.is(await errorCode(badResponse), 'ERR_GUEST_BAD_RESPONSE', `fault ${fault}`);
    }
    // 205 has no content: the body the guest gave is not sent.
    const resetContent = await call(12);
    assert.is(resetContent.status, 205);
    assert.is(await resetContent.text(), '');
    assert.is(await (await call(0)).text(), 'ok');
  });

  test('tables cannot grow past their cap, which no memory limit counts; the node serves on', async ({ n }) => {
    // 64 tables grown by 9 million elements each would take 4.6 GB of the node's heap.
    const res = await n.call('tablebomb');
    assert.is(res.status, 200);
    assert.is(await res.text(), 'capped');
    assert.is((await n.call('hello')).status, 200);
  });

  test('an endless wasi:http body the node would have to hold ends at the memory limit, unkept; the node serves on', async ({ n }) => {
    const failure = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;
    const item = () => n.admin('GET', '/keygroups/hoard/items/hoard');
    // Written before the response is set; held for the call's key-value write: without the bound,
    // the node would keep every byte until the timeout (5 s), gigabytes.
    for (const [path, why] of [['/early', 'before it set the response'], ['/held', 'while its key-value writes waited']]) {
      const res = await n.call('hoard', { path });
      assert.is(res.status, 502, path);
      const error = await failure(res);
      assert.is(error.code, 'ERR_GUEST_BAD_RESPONSE', path);
      assert.match(error.message, `more than 16 MiB of its response body ${why}`, path);
    }
    assert.is((await item()).status, 404, 'the failed call wrote nothing');
    // Taken whole by an async caller.
    const started = await n.call('hoard', { path: '/held', headers: { 'x-enoki-async': 'true' } });
    assert.is(started.status, 202);
    const { invocationId, resultToken } = (await started.json()) as { invocationId: string; resultToken: string };
    const read = () => fetch(`${n.url}/invocations/${invocationId}`, { headers: { 'x-enoki-result-token': resultToken } });
    let result = await read();
    for (let i = 0; i < 200 && result.status === 202; i++) {
      await result.arrayBuffer();
      await new Promise((r) => setTimeout(r, 50));
      result = await read();
    }
    const error = await failure(result);
    assert.is(error.code, 'ERR_GUEST_BAD_RESPONSE');
    assert.match(error.message, 'of its response body for a caller that takes the response whole');
    assert.is((await item()).status, 404);
    // A body within the bound is answered, and its write kept.
    const small = await n.call('hoard', { path: '/small' });
    assert.is(small.status, 200);
    assert.is((await small.arrayBuffer()).byteLength, 4096);
    assert.is((await item()).status, 200);
    assert.is((await n.call('hello')).status, 200);
  });

  test("a module's start function runs once its data is in memory; one that never ends is stopped, others answering meanwhile", async ({ n }) => {
    assert.is(await (await n.call('start-fn')).text(), 'started');
    const looping = n.call('start-loop');
    const started = performance.now();
    assert.is((await n.call('hello')).status, 200);
    // On the event loop it cannot wait for its timeout (it would hold every other call): it is
    // stopped as an allocator that loops is. A worker is ended at the timeout.
    assert.ok(performance.now() - started < 2000, 'hello waited for the start function');
    const res = await looping;
    assert.is(await errorCode(res), engine === 'inline' ? 'ERR_GUEST_TRAP' : 'ERR_TIMEOUT');
    assert.is(await (await n.call('start-fn')).text(), 'started');
  });

  test('start code that calls key-value fails every call with the reason, the same on either engine; the node serves on', async ({ n }) => {
    for (let i = 0; i < 2; i++) {
      const res = await n.call('start-kv');
      assert.is(res.status, 500);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      assert.is(error.code, 'ERR_GUEST_TRAP');
      assert.match(error.message, /^start-kv: instantiation failed: .*key-value is not available while the instance starts/);
    }
    assert.is((await n.call('hello')).status, 200);
  });

  test('a module that needs more memory at start than its limit is ERR_MEMORY_LIMIT on either engine', async ({ n }) => {
    const res = await n.call('memory-at-start');
    assert.is(res.status, 500);
    assert.is(await errorCode(res), 'ERR_MEMORY_LIMIT');
    assert.is((await n.call('hello')).status, 200);
  });

  test('a guest that imports wasi:sockets runs, on a network with no way out: a socket or a lookup is not-supported', async ({ n }) => {
    const res = await n.call('sockets');
    assert.is(res.status, 200);
    // error-code case 2 is not-supported, what the guest's language turns into its own error.
    assert.is(await res.text(), 'tcp err 2 lookup err 2\n');
  });

  test('an endless loop ends at its timeout, and others answer meanwhile', async ({ n }) => {
    const looping = n.call('misbehave', { path: '/loop' });
    assert.is((await n.call('hello')).status, 200);
    const res = await looping;
    assert.is(res.status, 504);
    assert.is(await errorCode(res), 'ERR_TIMEOUT');
    assert.is((await n.call('misbehave', { path: '/ok' })).status, 200);
  });

  test('code without a loop that runs for days (a recursion, a call tree that fans out) ends at its timeout too', async ({ n }) => {
    for (const name of ['recurse', 'fanout']) {
      const started = performance.now();
      const running = n.call(name);
      assert.is((await n.call('hello')).status, 200, `hello while ${name} runs`);
      const res = await running;
      assert.is(res.status, 504, name);
      assert.is(await errorCode(res), 'ERR_TIMEOUT');
      assert.ok(performance.now() - started < 10_000, `${name} took ${Math.round(performance.now() - started)} ms`);
    }
    assert.is((await n.call('hello')).status, 200);
  });

  test('every concurrent call gets its own reply', async ({ n }) => {
    const bodies = Array.from({ length: 40 }, (_, i) => `request-${i}-${Math.random().toString(36).slice(2)}`);
    const replies = await Promise.all(bodies.map((body) => n.call('echo', { method: 'POST', body }).then((r) => r.json() as Promise<{ body: string }>)));
    assert.equal(replies.map((r) => r.body), bodies);
  });

  test('concurrent atomic increments lose nothing', async ({ n }) => {
    const answers = await Promise.all(Array.from({ length: 40 }, () => n.call('counter').then((r) => r.text())));
    const values = answers.map(Number).sort((a, b) => a - b);
    assert.equal(values, Array.from({ length: 40 }, (_, i) => i + 1));
  });

  test.run();
}

if (hasJspi) engineSuite('inline');
else console.log(`SKIPPED: exec: engine conformance (inline) — Node ${process.version} has no JSPI`);
engineSuite('worker');
