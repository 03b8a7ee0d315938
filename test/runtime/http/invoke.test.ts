// Invoking functions over HTTP: request mapping, state, misbehaving guests contained with clear
// errors, async invocations, logs and metrics.

import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { guest, startTestNode, type TestNode } from '../../helpers/test-node.js';

const test = suite<{ n: TestNode }>('http: invoke');

test.before(async (ctx) => {
  ctx.n = await startTestNode({ maxBodyBytes: 64 * 1024 });
  for (const name of ['echo', 'counter', 'hello', 'movingaverage']) {
    const res = await ctx.n.deploy(name, await guest(name));
    assert.ok(res.ok, `deploy ${name}: ${await res.text()}`);
  }
  const res = await ctx.n.deploy('misbehave', await guest('fixtures/misbehave.wasm'), '?timeoutMs=1500&memoryMiB=64');
  assert.ok(res.ok, `deploy misbehave: ${await res.text()}`);
});
test.after(async (ctx) => {
  await ctx.n.close();
});

const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

test('echo sees method, sub-path, query, headers and body', async ({ n }) => {
  const res = await n.call('echo', { method: 'PUT', path: '/a/b?x=1&y=2', body: 'payload', headers: { 'x-custom': 'yes' } });
  assert.is(res.status, 200);
  const echoed = (await res.json()) as { method: string; path: string; query: string; headers: [string, string][]; body: string };
  assert.is(echoed.method, 'PUT');
  assert.is(echoed.path, '/a/b');
  assert.is(echoed.query, 'x=1&y=2');
  assert.ok(echoed.headers.some(([k, v]) => k === 'x-custom' && v === 'yes'));
  assert.is(echoed.body, 'payload');
  assert.ok(res.headers.get('x-enoki-invocation-id'));
});

test('counter keeps state across calls', async ({ n }) => {
  const values: string[] = [];
  for (let i = 0; i < 5; i++) values.push(await (await n.call('counter')).text());
  assert.equal(values, ['1', '2', '3', '4', '5']);
});

test('concurrent increments are serialised per item: no lost update goes unnoticed', async ({ n }) => {
  // Each invocation reads then writes; concurrent ones may read the same value. What must hold:
  // every call answers, and the stored count is one of the answers (writes commit atomically).
  const answers = await Promise.all(Array.from({ length: 20 }, () => n.call('counter').then((r) => r.text())));
  const after = Number(await (await n.call('counter')).text());
  assert.ok(answers.every((a) => /^\d+$/.test(a)));
  assert.ok(answers.map(Number).includes(after - 1));
});

test('movingaverage averages the window of the last 10 values per thread', async ({ n }) => {
  const means: number[] = [];
  for (let v = 1; v <= 12; v++) means.push(Number(await (await n.call('movingaverage', { method: 'POST', body: `0-${v}` })).text()));
  assert.is(means[0], 1);
  assert.is(means[1], 1.5);
  assert.is(means[9], 5.5);
  // Values 11 and 12 replace 1 and 2 in the ring: (3+…+12)/10.
  assert.is(means[11], 7.5);
  // Another thread has its own window.
  assert.is(Number(await (await n.call('movingaverage', { method: 'POST', body: '1-100' })).text()), 100);
});

test('the tiny WAT guest answers', async ({ n }) => {
  const res = await n.call('hello');
  assert.is(res.status, 200);
  assert.is(await res.text(), 'hello from wat\n');
});

test('unknown functions get 404', async ({ n }) => {
  const res = await n.call('nope');
  assert.is(res.status, 404);
  assert.is((await errorOf(res)).code, 'ERR_FUNCTION_NOT_FOUND');
});

test('an oversized body gets 413 and runs nothing', async ({ n }) => {
  const res = await n.call('echo', { method: 'POST', body: 'x'.repeat(65 * 1024) });
  assert.is(res.status, 413);
  assert.is((await errorOf(res)).code, 'ERR_BODY_TOO_LARGE');
});

test("a guest's err result is a 500 with its message", async ({ n }) => {
  const res = await n.call('misbehave', { path: '/err' });
  assert.is(res.status, 500);
  const error = await errorOf(res);
  assert.is(error.code, 'ERR_GUEST_ERROR');
  assert.match(error.message, /guest said no/);
});

test('a trap is a 500 and the function keeps working', async ({ n }) => {
  const res = await n.call('misbehave', { path: '/trap' });
  assert.is(res.status, 500);
  assert.is((await errorOf(res)).code, 'ERR_GUEST_TRAP');
  assert.is(await (await n.call('misbehave', { path: '/ok' })).text(), 'ok');
});

test("a JS guest's uncaught Error returns its name, message and stack, to the caller and to the log", async ({ n }) => {
  const res = await n.call('misbehave', { path: '/throw' });
  assert.is(res.status, 500);
  const error = await errorOf(res);
  assert.is(error.code, 'ERR_GUEST_ERROR');
  // SpiderMonkey's stack: function@file:line:column, the guest's own frames only.
  assert.match(error.message, /^misbehave: Error: boom\nhandle@(?:\S*\/)?misbehave\.js:\d+:\d+/);
  assert.not.match(error.message, /enoki-entry|initializer/);
  const logs = (await (await n.admin('GET', '/functions/misbehave/logs?limit=1')).json()) as { invocations: { error?: { message: string } }[] };
  assert.match(logs.invocations[0].error?.message ?? '', /Error: boom\nhandle@\S*misbehave\.js/);
  assert.is(await (await n.call('misbehave', { path: '/ok' })).text(), 'ok', 'the instance stays usable');
});

test('an infinite loop is stopped at the timeout with 504; the node stays up', async ({ n }) => {
  const started = performance.now();
  const res = await n.call('misbehave', { path: '/loop' });
  const elapsed = performance.now() - started;
  assert.is(res.status, 504);
  assert.is((await errorOf(res)).code, 'ERR_TIMEOUT');
  assert.ok(elapsed >= 1400 && elapsed < 10_000, `took ${elapsed} ms`);
  assert.is((await fetch(`${n.url}/healthz`)).status, 200);
  assert.is(await (await n.call('misbehave', { path: '/ok' })).text(), 'ok');
  assert.is((await n.call('hello')).status, 200);
});

test('a stack overflow ends the call with a trap, and the node keeps serving', async ({ n }) => {
  assert.ok((await n.deploy('deep', await guest('fixtures/deep.wasm'))).ok);
  const res = await n.call('deep');
  assert.is(res.status, 500);
  const error = await errorOf(res);
  assert.is(error.code, 'ERR_GUEST_TRAP');
  assert.match(error.message, /stack/i);
  assert.is((await n.call('hello')).status, 200);
  assert.is((await n.call('deep')).status, 500, 'and again');
});

test('a memory bomb is capped at the function memory limit', async ({ n }) => {
  const res = await n.call('misbehave', { path: '/membomb' });
  assert.is(res.status, 500);
  const error = await errorOf(res);
  assert.ok(['ERR_MEMORY_LIMIT', 'ERR_GUEST_TRAP'].includes(error.code), error.code);
  assert.is(await (await n.call('misbehave', { path: '/ok' })).text(), 'ok');
});

test('a bad key is an error value inside the guest, not a trap', async ({ n }) => {
  const res = await n.call('misbehave', { path: '/kv-bad-key' });
  assert.is(res.status, 200);
  const payload = (await res.json()) as { tag: string; val: string };
  assert.is(payload.tag, 'invalid-key');
});

test('writes of a call that traps are not committed', async ({ n }) => {
  const res = await n.call('misbehave', { path: '/write-then-trap' });
  assert.is(res.status, 500);
  const check = await n.call('misbehave', { path: '/read-x' });
  assert.is(await check.text(), 'absent');
});

test('async invocation: 202 with an id and a result token, then the result for the token only', async ({ n }) => {
  const res = await n.call('counter', { headers: { 'x-enoki-async': 'true' } });
  assert.is(res.status, 202);
  const { invocationId, resultToken } = (await res.json()) as { invocationId: string; resultToken: string };
  assert.is(res.headers.get('location'), `/invocations/${invocationId}`);
  assert.type(resultToken, 'string');
  const headers = { 'x-enoki-result-token': resultToken };
  let result: Response;
  for (;;) {
    result = await fetch(`${n.url}/invocations/${invocationId}`, { headers });
    if (result.status !== 202) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.is(result.status, 200);
  assert.match(await result.text(), /^\d+$/);
  assert.is(result.headers.get('x-enoki-invocation-state'), 'done');
  assert.is((await fetch(`${n.url}/invocations/${invocationId}`)).status, 404, 'the id alone is not enough');
  assert.is((await fetch(`${n.url}/invocations/${invocationId}`, { headers: { 'x-enoki-result-token': 'guess' } })).status, 404);
  assert.is((await fetch(`${n.url}/invocations/00000000-0000-0000-0000-000000000000`, { headers })).status, 404);
});

test("logs list each invocation with the guest's lines and errors", async ({ n }) => {
  await n.call('misbehave', { path: '/log' });
  const res = await n.admin('GET', '/functions/misbehave/logs?limit=50');
  const { invocations } = (await res.json()) as {
    invocations: { lines: { stream: string; message: string }[]; error?: { code: string } }[];
  };
  const withLines = invocations.find((i) => i.lines.some((l) => l.stream === 'warn'));
  assert.ok(withLines, 'the /log call shows its warn line');
  assert.ok(invocations.some((i) => i.error?.code === 'ERR_TIMEOUT'));
});

test('an invocation that logs 10,000 lines keeps every one of them', async ({ n }) => {
  // 10,000 lines of "line N" are ~87 KiB of text: past the 64 KiB the node once kept. A function
  // of its own, with time to spare: a guest on a worker pays a host call per line.
  assert.ok((await n.deploy('chatty', await guest('fixtures/misbehave.wasm'), '?timeoutMs=60000')).ok);
  const res = await n.call('chatty', { path: '/log-lines?n=10000' });
  assert.is(res.status, 200, await res.text());
  const { invocations } = (await (await n.admin('GET', '/functions/chatty/logs?limit=1')).json()) as {
    invocations: { lines: { message: string }[]; truncated: boolean }[];
  };
  const [last] = invocations;
  assert.is(last.lines.length, 10000);
  assert.is(last.lines[9999].message, 'line 9999');
  assert.is(last.truncated, false);
});

test('a function log is read in pages, newest first, each entry numbered', async ({ n }) => {
  for (let i = 0; i < 5; i++) assert.is((await n.call('hello')).status, 200);
  type Page = { invocations: { seq: number; invocationId: string }[]; next?: number; kept: number };
  const page = async (query: string) => (await (await n.admin('GET', `/functions/hello/logs${query}`)).json()) as Page;
  const all = await page('');
  const newest = await page('?limit=2');
  assert.equal(newest.invocations.map((e) => e.seq), all.invocations.slice(-2).map((e) => e.seq));
  assert.is(newest.kept, 200);
  const older = await page(`?limit=2&before=${newest.next}`);
  assert.equal(older.invocations.map((e) => e.seq), all.invocations.slice(-4, -2).map((e) => e.seq));
  assert.is((await n.admin('GET', '/functions/hello/logs?before=0')).status, 400);
});

test('metrics count invocations, errors and cold starts per function', async ({ n }) => {
  const text = await (await fetch(`${n.url}/metrics`)).text();
  assert.match(text, /enoki_invocations_total\{fn="counter"\} \d+/);
  assert.match(text, /enoki_invocation_errors_total\{fn="misbehave",code="ERR_TIMEOUT"\} 1/);
  assert.match(text, /enoki_cold_starts_total\{fn="hello"\} [1-9]/);
  assert.match(text, /enoki_invocation_duration_seconds_bucket\{fn="echo",le="\+Inf"\} \d+/);
});

test.run();
