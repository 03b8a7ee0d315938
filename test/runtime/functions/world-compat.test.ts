// The function world grows by new imports without breaking components built before: a component
// importing any subset of the world deploys, down to single functions of an interface (as a Rust
// guest's component imports only the functions it calls). The old WITs are kept as fixtures.

import fs from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { componentEmbed, componentNew } from '@bytecodealliance/jco';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { guest, startTestNode, type TestNode } from '../../helpers/test-node.js';

const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/', import.meta.url));

/** A component of the world in `witFile` whose core module only has the right shape. */
async function dummyComponent(witFile: string, edit: (wit: string) => string = (wit) => wit): Promise<Uint8Array> {
  const witSource = edit(await fs.readFile(witFile, 'utf8'));
  return componentNew(await componentEmbed({ witSource, dummy: true, world: 'function' }));
}

const WIT = `${FIXTURES}../../wit/enoki.wit`;
const KV_GET = 'get: func(id: string) -> result<option<string>, kv-error>;';

const test = suite<{ n: TestNode }>('functions: world compatibility');

test.before(async (ctx) => {
  ctx.n = await startTestNode({ workers: 1 });
});
test.after(async (ctx) => {
  await ctx.n.close();
});

test('a component built against the WIT before `invoke` existed still deploys', async ({ n }) => {
  const res = await n.deploy('old', await dummyComponent(`${FIXTURES}wit-before-invoke/enoki.wit`));
  assert.ok(res.ok, await res.text());
});

test('a component built against the WIT before `atomics` existed still deploys', async ({ n }) => {
  const res = await n.deploy('beforeatomics', await dummyComponent(`${FIXTURES}wit-before-atomics/enoki.wit`));
  assert.ok(res.ok, await res.text());
});

test('a component importing `invoke` and `atomics` deploys', async ({ n }) => {
  const res = await n.deploy('new', await dummyComponent(`${FIXTURES}../../wit/enoki.wit`));
  assert.ok(res.ok, await res.text());
});

test('a component importing only some functions of kv and atomics deploys and runs', async ({ n }) => {
  // fixtures/kv-partial.wat imports kv.get, kv.set and atomics.increment, nothing else.
  const res = await n.deploy('partial', await guest('fixtures/kv-partial.wasm'));
  assert.ok(res.ok, await res.text());
  assert.is(await (await n.call('partial')).text(), 'none');
  const set = await n.call('partial', { method: 'POST', body: 'hello there' });
  assert.is(set.status, 200);
  assert.is(await set.text(), 'hello there');
  assert.is(await (await n.call('partial')).text(), 'hello there');
  await n.call('partial', { method: 'POST', body: 'again' });
  const writes = await (await n.admin('GET', '/keygroups/partial/items/writes')).json();
  assert.equal(writes.siblings.map((s: { value: string }) => s.value), ['2']);
});

test('a function whose type differs from Enoki\'s is refused by name', async ({ n }) => {
  const res = await n.deploy('otherget', await dummyComponent(WIT, (wit) => wit.replace(KV_GET, 'get: func(id: u32) -> result<option<string>, kv-error>;')));
  assert.is(res.status, 422);
  const { error } = await res.json();
  assert.is(error.code, 'ERR_WRONG_WORLD');
  assert.match(error.message, 'interface enoki:faas/kv@0.1.0 has different types than Enoki\'s');
  assert.match(error.message, 'function get has another type');
});

test('a function Enoki\'s interface does not have is refused by name', async ({ n }) => {
  const res = await n.deploy('extra', await dummyComponent(WIT, (wit) => wit.replace(KV_GET, `${KV_GET}\n  frobnicate: func(id: string);`)));
  assert.is(res.status, 422);
  const { error } = await res.json();
  assert.match(error.message, 'function frobnicate is not Enoki\'s');
  assert.not.match(error.message, 'function get');
});

test.run();
