// Deploying functions over HTTP: bad input is refused with a clear, coded error and the node
// keeps serving; good components are activated, versioned, rolled back and survive a restart.

import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { guest, startTestNode, type TestNode } from '../../helpers/test-node.js';

const test = suite<{ n: TestNode }>('http: deploy');

test.before(async (ctx) => {
  ctx.n = await startTestNode({ maxComponentBytes: 32 * 1024 * 1024 });
});
test.after(async (ctx) => {
  await ctx.n.close();
});

async function errorOf(res: Response): Promise<{ code: string; message: string; problems?: string[] }> {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

test('the management API needs the admin token', async ({ n }) => {
  const res = await fetch(`${n.url}/functions`);
  assert.is(res.status, 401);
  assert.is((await errorOf(res)).code, 'ERR_UNAUTHORIZED');
  const wrong = await fetch(`${n.url}/functions`, { headers: { authorization: 'Bearer nope' } });
  assert.is(wrong.status, 401);
});

test('bytes that are not wasm are refused', async ({ n }) => {
  const res = await n.deploy('junk', new TextEncoder().encode('#!/bin/sh\necho hi\n'));
  assert.is(res.status, 422);
  assert.is((await errorOf(res)).code, 'ERR_NOT_WASM');
});

test('a core module is refused as not a component', async ({ n }) => {
  const res = await n.deploy('core', await guest('fixtures/core-module.wasm'));
  assert.is(res.status, 422);
  const error = await errorOf(res);
  assert.is(error.code, 'ERR_NOT_COMPONENT');
  assert.match(error.message, /core WebAssembly module/);
});

test('a truncated component is refused as malformed', async ({ n }) => {
  const bytes = await guest('hello');
  const res = await n.deploy('broken', bytes.subarray(0, Math.floor(bytes.length / 2)));
  assert.is(res.status, 422);
  assert.is((await errorOf(res)).code, 'ERR_INVALID_COMPONENT');
});

test('a component whose code allocates WebAssembly GC objects is refused: no memory limit would hold them', async ({ n }) => {
  const res = await n.deploy('gc', await guest('fixtures/gc-objects.wasm'));
  assert.is(res.status, 422);
  const error = await errorOf(res);
  assert.is(error.code, 'ERR_INVALID_COMPONENT');
  // A Node without the GC proposal (20) does not validate the module at all.
  assert.match(error.message, /declares WebAssembly GC types|does not validate/);
  assert.is((await n.admin('GET', '/functions/gc')).status, 404);
});

test('a component of another world is refused, naming what is missing', async ({ n }) => {
  const res = await n.deploy('other', await guest('fixtures/wrong-world.wasm'));
  assert.is(res.status, 422);
  const error = await errorOf(res);
  assert.is(error.code, 'ERR_WRONG_WORLD');
  assert.match(error.message, /missing export enoki:faas\/handler@0\.1\.0/);
});

test('invalid function names are refused', async ({ n }) => {
  const bytes = await guest('hello');
  for (const name of ['Hello', '-x', 'a'.repeat(64), 'x_y']) {
    const res = await n.deploy(encodeURIComponent(name), bytes);
    assert.is(res.status, 400, name);
    assert.is((await errorOf(res)).code, 'ERR_INVALID_NAME');
  }
});

test('invalid options are refused', async ({ n }) => {
  const bytes = await guest('hello');
  for (const query of ['?keygroup=no-dash', '?timeoutMs=0', '?memoryMiB=99999', '?env=1X=2', '?timeoutMs=abc']) {
    const res = await n.deploy('hello', bytes, query);
    assert.is(res.status, 400, query);
    assert.is((await errorOf(res)).code, 'ERR_INVALID_OPTION', query);
  }
});

test('an oversized component gets 413', async () => {
  const small = await startTestNode({ maxComponentBytes: 1024 });
  try {
    const res = await small.deploy('hello', await guest('counter'));
    assert.is(res.status, 413);
    assert.is((await errorOf(res)).code, 'ERR_BODY_TOO_LARGE');
  } finally {
    await small.close();
  }
});

test('deploy, list, describe; redeploy makes v2; rollback restores v1', async ({ n }) => {
  const first = await n.deploy('greeter', await guest('hello'));
  assert.is(first.status, 201);
  assert.is(((await first.json()) as { version: string }).version, 'v1');
  assert.is((await n.call('greeter')).status, 200);

  const second = await n.deploy('greeter', await guest('echo'));
  assert.is(second.status, 200);
  assert.is(((await second.json()) as { version: string }).version, 'v2');
  const echoed = await n.call('greeter', { method: 'POST', body: 'ping' });
  assert.match(await echoed.text(), /ping/);

  const list = (await (await n.admin('GET', '/functions')).json()) as { functions: { name: string; version: string }[] };
  assert.equal(list.functions.find((f) => f.name === 'greeter')?.version, 'v2');
  const info = (await (await n.admin('GET', '/functions/greeter')).json()) as { versions: { id: string }[]; stats: { invocations: number } };
  assert.equal(info.versions.map((v) => v.id), ['v1', 'v2']);
  assert.ok(info.stats.invocations >= 2);

  const back = await n.admin('POST', '/functions/greeter/rollback');
  assert.is(((await back.json()) as { version: string }).version, 'v1');
  assert.match(await (await n.call('greeter')).text(), /hello from wat/);
  const again = await n.admin('POST', '/functions/greeter/rollback');
  assert.is(again.status, 409);
  const byId = await n.admin('POST', '/functions/greeter/rollback', JSON.stringify({ version: 'v2' }));
  assert.is(((await byId.json()) as { version: string }).version, 'v2');
});

test('redeploying the same bytes with the same options keeps the active version', async ({ n }) => {
  const bytes = await guest('hello');
  const first = await n.deploy('same', bytes, '?timeoutMs=3000&env=A=1');
  assert.is(first.status, 201);
  const again = await n.deploy('same', bytes, '?timeoutMs=3000&env=A=1');
  assert.is(again.status, 200);
  const body = (await again.json()) as { version: string; unchanged: boolean };
  assert.equal([body.version, body.unchanged], ['v1', true]);
  // Other options, or other bytes, are a new version.
  const options = (await (await n.deploy('same', bytes, '?timeoutMs=4000&env=A=1')).json()) as { version: string; unchanged: boolean };
  assert.equal([options.version, options.unchanged], ['v2', false]);
  const other = (await (await n.deploy('same', await guest('echo'), '?timeoutMs=4000&env=A=1')).json()) as { version: string; unchanged: boolean };
  assert.equal([other.version, other.unchanged], ['v3', false]);
  const info = (await (await n.admin('GET', '/functions/same')).json()) as { versions: { id: string }[] };
  assert.equal(info.versions.map((v) => v.id), ['v1', 'v2', 'v3']);
  // Compared with the active version: after a rollback, the bytes of v3 are a new version again.
  await n.admin('POST', '/functions/same/rollback');
  const back = (await (await n.deploy('same', await guest('echo'), '?timeoutMs=4000&env=A=1')).json()) as { version: string; unchanged: boolean };
  assert.equal([back.version, back.unchanged], ['v4', false]);
});

test('functions and their data answer again after a restart', async ({ n }) => {
  await n.deploy('persisted', await guest('counter'));
  await n.call('persisted');
  assert.is(await (await n.call('persisted')).text(), '2');
  await n.restart();
  const res = await n.call('persisted');
  assert.is(res.status, 200);
  assert.is(await res.text(), '3');
  assert.is(res.headers.get('x-enoki-cold-start'), '1');
});

test('delete keeps the keygroup unless purged', async ({ n }) => {
  await n.deploy('ephemeral', await guest('counter'));
  await n.call('ephemeral');
  assert.is((await n.admin('DELETE', '/functions/ephemeral')).status, 200);
  assert.is((await n.call('ephemeral')).status, 404);
  await n.deploy('ephemeral', await guest('counter'));
  assert.is(await (await n.call('ephemeral')).text(), '2', 'data kept across delete');
  const purged = await n.admin('DELETE', '/functions/ephemeral?purge=true');
  assert.is(((await purged.json()) as { dataPurged: boolean }).dataPurged, true);
  await n.deploy('ephemeral', await guest('counter'));
  assert.is(await (await n.call('ephemeral')).text(), '1', 'purged data is gone');
});

test.run();
