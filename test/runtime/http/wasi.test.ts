// Guests built with WASI features: the node serves stdio, random and clocks in-process, keeps
// what the guest prints in its invocation log, and reports an uncaught exception's cause.

import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { guest, startTestNode, type TestNode } from '../../helpers/test-node.js';

const test = suite<{ n: TestNode }>('http: WASI guests');

test.before(async (ctx) => {
  ctx.n = await startTestNode();
  const res = await ctx.n.deploy('stdio', await guest('fixtures/stdio.wasm'));
  assert.ok(res.ok, await res.text());
});
test.after(async (ctx) => {
  await ctx.n.close();
});

test('stdout and stderr land in the invocation log; random and clocks work', async ({ n }) => {
  const res = await n.call('stdio', { path: '/print?q=1' });
  assert.is(res.status, 200);
  const [random, now] = (await res.text()).split(' ').map(Number);
  assert.ok(random >= 0 && random < 1);
  assert.ok(Math.abs(now - Date.now()) < 60_000, `guest clock says ${now}`);
  const logs = (await (await n.admin('GET', '/functions/stdio/logs')).json()) as {
    invocations: { lines: { stream: string; message: string }[] }[];
  };
  const lines = logs.invocations.at(-1)?.lines ?? [];
  assert.ok(lines.some((l) => l.stream === 'stdout' && l.message === 'to stdout q=1'), JSON.stringify(lines));
  assert.ok(lines.some((l) => l.stream === 'stderr' && l.message === 'to stderr'));
});

test("an uncaught exception returns the error's message and stack, as without stdio", async ({ n }) => {
  const res = await n.call('stdio', { path: '/throw' });
  assert.is(res.status, 500);
  const { error } = (await res.json()) as { error: { code: string; message: string } };
  assert.is(error.code, 'ERR_GUEST_ERROR');
  assert.match(error.message, /^stdio: Error: thrown on purpose\nhandle@(?:\S*\/)?stdio\.js:\d+:\d+/);
  assert.is((await n.call('stdio', { path: '/print' })).status, 200, 'the instance serves the next call');
});

test.run();
