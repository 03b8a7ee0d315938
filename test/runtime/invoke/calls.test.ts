// Function-to-function calls on one node: the `invoke` interface as a guest sees it (the caller
// fixture answers a call-error as 200 + x-call-error), state of caller and callee, logs, limits.

import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { guest, startTestNode, type TestNode } from '../../helpers/test-node.js';

const test = suite<{ n: TestNode }>('invoke: calls between functions');

test.before(async (ctx) => {
  ctx.n = await startTestNode({ workers: 2, maxCallDepth: 4 });
  const deploys: [string, string, string?][] = [
    ['caller', 'fixtures/caller.wasm'],
    ['rec', 'fixtures/caller.wasm'],
    ['impatient', 'fixtures/caller.wasm', '?timeoutMs=1000'],
    ['echo', 'echo'],
    ['counter', 'counter'],
    ['misbehave', 'fixtures/misbehave.wasm', '?timeoutMs=1500&memoryMiB=64'],
    // Same code with the default timeout of 10 s.
    ['spinner', 'fixtures/misbehave.wasm'],
  ];
  for (const [name, file, query] of deploys) {
    const res = await ctx.n.deploy(name, await guest(file), query);
    assert.ok(res.ok, `deploy ${name}: ${await res.text()}`);
  }
});
test.after(async (ctx) => {
  await ctx.n.close();
});

interface LogEntry {
  invocationId: string;
  caller?: string;
  status: number;
  error?: { code: string; message: string };
}

async function logsOf(n: TestNode, fn: string): Promise<LogEntry[]> {
  const res = await n.admin('GET', `/functions/${fn}/logs`);
  return ((await res.json()) as { invocations: LogEntry[] }).invocations;
}

async function callError(res: Response): Promise<{ tag: string; val: string }> {
  assert.is(res.status, 200);
  const tag = res.headers.get('x-call-error');
  const body = await res.text();
  assert.ok(tag, `expected a call-error, got a response: ${body}`);
  const error = JSON.parse(body) as { tag: string; val: string };
  assert.is(error.tag, tag);
  return error;
}

test("a call returns the callee's response; the callee's log names the caller", async ({ n }) => {
  const res = await n.call('caller', { method: 'POST', path: '/to/echo/a/b?x=1', body: 'hi', headers: { 'x-custom': 'yes' } });
  assert.is(res.status, 200);
  assert.is(res.headers.get('x-called'), 'echo');
  const echoed = (await res.json()) as { method: string; path: string; query: string; headers: [string, string][]; body: string };
  assert.is(echoed.method, 'POST');
  assert.is(echoed.path, '/a/b');
  assert.is(echoed.query, 'x=1');
  assert.is(echoed.body, 'hi');
  assert.ok(echoed.headers.some(([k, v]) => k === 'x-custom' && v === 'yes'));
  const callerId = res.headers.get('x-enoki-invocation-id');
  const entry = (await logsOf(n, 'echo')).at(-1);
  assert.is(entry?.caller, callerId);
  assert.is(entry?.status, 200);
  assert.ok(entry?.invocationId !== callerId);
});

test('an error status of the callee is its response, not a call-error', async ({ n }) => {
  const res = await n.call('caller', { path: '/to/misbehave/no-such-behaviour' });
  assert.is(res.status, 404);
  assert.is(res.headers.get('x-call-error'), null);
  assert.match(await res.text(), 'no behaviour for /no-such-behaviour');
});

test('writes of the caller and of the callee are both committed', async ({ n }) => {
  await n.call('counter', { method: 'DELETE' });
  const res = await n.call('caller', { path: '/set/mine/yes/to/counter' });
  assert.is(await res.text(), '1');
  assert.is(await (await n.call('caller', { path: '/get/mine' })).text(), 'yes');
  assert.is(await (await n.call('counter')).text(), '2');
});

test('a callee that traps is `failed` with its code; the caller continues and commits', async ({ n }) => {
  const error = await callError(await n.call('caller', { path: '/set/after/trap1/to/misbehave/trap' }));
  assert.is(error.tag, 'failed');
  assert.match(error.val, /^ERR_GUEST_TRAP: /);
  assert.is(await (await n.call('caller', { path: '/get/after' })).text(), 'trap1');
  const failedErr = await callError(await n.call('caller', { path: '/to/misbehave/err' }));
  assert.is(failedErr.tag, 'failed');
  assert.match(failedErr.val, /^ERR_GUEST_ERROR: .*guest said no/);
  // The callee's writes before its trap are dropped, as for any failed invocation.
  await callError(await n.call('caller', { path: '/to/misbehave/write-then-trap' }));
  assert.is(await (await n.call('misbehave', { path: '/read-x' })).text(), 'absent');
});

test('a call to a function that is not deployed is `not-found`', async ({ n }) => {
  const error = await callError(await n.call('caller', { path: '/to/nope' }));
  assert.is(error.tag, 'not-found');
  assert.match(error.val, 'nope');
  const invalid = await callError(await n.call('caller', { path: '/to/Not_A_Name' }));
  assert.is(invalid.tag, 'not-found');
});

test('a self-recursive function stops at the depth limit with `too-deep`', async ({ n }) => {
  // rec → rec → rec → rec → rec (4 calls, the node's limit); the fifth is refused and answers 0.
  const res = await n.call('rec', { path: '/recurse/rec' });
  assert.is(await res.text(), '4');
  const called = (await logsOf(n, 'rec')).filter((e) => e.caller !== undefined);
  assert.is(called.length, 4);
});

test('a callee past its own timeout is `timeout`; the caller goes on', async ({ n }) => {
  const error = await callError(await n.call('caller', { path: '/set/aftertimeout/yes/to/misbehave/loop' }));
  assert.is(error.tag, 'timeout');
  assert.match(error.val, /^ERR_TIMEOUT: .*1500 ms/);
  assert.is(await (await n.call('caller', { path: '/get/aftertimeout' })).text(), 'yes');
});

test("the caller's timeout ends the caller while its callee loops, and caps the callee's", async ({ n }) => {
  const res = await n.call('impatient', { path: '/to/spinner/loop' });
  assert.is(res.status, 504);
  const body = (await res.json()) as { error: { code: string; invocationId: string } };
  assert.is(body.error.code, 'ERR_TIMEOUT');
  // spinner's own timeout is 10 s; it was stopped at the caller's deadline instead.
  let entry: LogEntry | undefined;
  for (let i = 0; i < 100 && !entry; i++) {
    entry = (await logsOf(n, 'spinner')).find((e) => e.caller === body.error.invocationId);
    if (!entry) await new Promise((r) => setTimeout(r, 50));
  }
  assert.is(entry?.error?.code, 'ERR_TIMEOUT');
  const capped = Number(/timeout of (\d+) ms/.exec(entry?.error?.message ?? '')?.[1]);
  assert.ok(capped <= 1000, `spinner ran with a timeout of ${capped} ms`);
  // Both workers were replaced; the node still serves calls.
  assert.is((await n.call('caller', { path: '/to/echo' })).status, 200);
});

test('call-async returns an id at once; the result is at /invocations/{id} for the same credentials', async ({ n }) => {
  const auth = { authorization: 'Bearer reader-1' };
  const res = await n.call('caller', { method: 'POST', path: '/async/echo/later', body: 'payload', headers: auth });
  assert.is(res.status, 202);
  const id = await res.text();
  let result: Response | undefined;
  for (let i = 0; i < 100; i++) {
    result = await fetch(`${n.url}/invocations/${id}`, { headers: auth });
    if (result.status !== 202) break;
    await result.arrayBuffer();
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.is(result?.status, 200);
  assert.is(result?.headers.get('x-enoki-invocation-state'), 'done');
  const echoed = (await result!.json()) as { path: string; body: string };
  assert.is(echoed.path, '/later');
  assert.is(echoed.body, 'payload');
  assert.ok((await logsOf(n, 'echo')).some((e) => e.invocationId === id && e.caller !== undefined));
  // The id alone, or other credentials, read nothing; the admin token reads everything.
  assert.is((await fetch(`${n.url}/invocations/${id}`)).status, 404);
  assert.is((await fetch(`${n.url}/invocations/${id}`, { headers: { authorization: 'Bearer reader-2' } })).status, 404);
  assert.is((await n.admin('GET', `/invocations/${id}`)).status, 200);
  const missing = await callError(await n.call('caller', { path: '/async/nope' }));
  assert.is(missing.tag, 'not-found');
});

test("a call-async without credentials is the admin's to read", async ({ n }) => {
  const res = await n.call('caller', { method: 'POST', path: '/async/echo/quiet', body: 'x' });
  assert.is(res.status, 202);
  const id = await res.text();
  let admin: Response | undefined;
  for (let i = 0; i < 100; i++) {
    admin = await n.admin('GET', `/invocations/${id}`);
    if (admin.status !== 202) break;
    await admin.arrayBuffer();
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.is(admin?.status, 200);
  assert.is((await fetch(`${n.url}/invocations/${id}`)).status, 404);
});

test.run();

// A pool of one worker: callers hold their worker while they wait.
const small = suite<{ n: TestNode }>('invoke: calls on a pool of one worker');

small.before(async (ctx) => {
  ctx.n = await startTestNode({ engine: 'worker', workers: 1, callWorkers: 2 });
  for (const name of ['c1', 'c2', 'c3']) {
    const res = await ctx.n.deploy(name, await guest('fixtures/caller.wasm'));
    assert.ok(res.ok, `deploy ${name}: ${await res.text()}`);
  }
  assert.ok((await ctx.n.deploy('echo', await guest('echo'))).ok);
});
small.after(async (ctx) => {
  await ctx.n.close();
});

small('a chain of 3 functions runs on a pool of one worker, also twice at once', async ({ n }) => {
  const chain = () => n.call('c1', { path: '/to/c2/to/c3' });
  const results = await Promise.all([chain(), chain()]);
  for (const res of results) {
    assert.is(res.status, 200);
    assert.is(res.headers.get('x-call-error'), null);
    assert.is(await res.text(), 'end');
  }
});

small('a callee that no worker can ever run is refused as `overloaded`, not left waiting', async ({ n }) => {
  // 1 worker + 2 for calls: c1, c2 and c3 wait on each other, and echo finds none.
  const error = await callError(await n.call('c1', { path: '/to/c2/to/c3/to/echo' }));
  assert.is(error.tag, 'overloaded');
  assert.match(error.val, /^ERR_OVERLOADED: /);
  assert.is(await (await n.call('c1', { path: '/to/echo' })).status, 200);
});

small.run();
