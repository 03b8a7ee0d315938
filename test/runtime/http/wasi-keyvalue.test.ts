// wasi:keyvalue components, written as for Spin or wasmCloud, run unchanged: their default bucket
// ("" or "default") is the function's keygroup, shared with enoki:faas guests of that keygroup;
// writes of a failed call are not committed; state survives a restart.

import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { guest, startTestNode, type TestNode } from '../../helpers/test-node.js';

const test = suite<{ n: TestNode }>('http: wasi:keyvalue components');

test.before(async (ctx) => {
  ctx.n = await startTestNode();
  for (const [name, file] of [
    ['kv-js', 'worlds/kv-counter.wasm'],
    ['kv-wat', 'worlds/kv-counter-wat.wasm'],
    ['counter', 'counter'],
  ]) {
    const res = await ctx.n.deploy(name, await guest(file), '?keygroup=shared');
    assert.is(res.status, 201, await res.text());
  }
});
test.after(async (ctx) => {
  await ctx.n.close();
});

const body = async (res: Response) => (await res.text()).trim();

test('the default bucket counts atomically, "" and "default" alike; other names are no store', async ({ n }) => {
  assert.is(await body(await n.call('kv-js', { path: '/' })), '1');
  assert.is(await body(await n.call('kv-js', { path: '/count?bucket=default' })), '2');
  const other = await n.call('kv-js', { path: '/count?bucket=elsewhere' });
  assert.is(other.status, 404);
  assert.match(await other.text(), 'no-such-store');
});

test('a WAT component and a JS one share the keygroup’s counter', async ({ n }) => {
  const before = Number(await body(await n.call('kv-js', { path: '/' })));
  assert.is(Number(await body(await n.call('kv-wat'))), before + 1);
  assert.is(Number(await body(await n.call('kv-js', { path: '/' }))), before + 2);
});

test('an enoki:faas guest sees the same items: its atomic counter and wasi:keyvalue increment agree', async ({ n }) => {
  assert.is(await body(await n.call('counter')), '1');
  assert.is(await body(await n.call('kv-js', { path: '/count/count' })), '2');
  assert.is(await body(await n.call('counter')), '3');
});

test('any key and any bytes round-trip; lists and batches work', async ({ n }) => {
  const binary = Uint8Array.of(0, 1, 2, 200, 255);
  // Only the status is read: a response with writes is answered after its commit.
  assert.is((await n.call('kv-js', { method: 'PUT', path: `/set/${encodeURIComponent('a key/with:odd chars')}`, body: binary })).status, 200);
  const got = new Uint8Array(await (await n.call('kv-js', { path: `/get/${encodeURIComponent('a key/with:odd chars')}` })).arrayBuffer());
  assert.equal([...got], [...binary]);
  const keys = (await (await n.call('kv-js', { path: '/list' })).json()) as string[];
  assert.ok(keys.includes('a key/with:odd chars') && keys.includes('hits') && keys.includes('count'), JSON.stringify(keys));
  const batch = await n.call('kv-js', { method: 'POST', path: '/batch', body: JSON.stringify({ b1: 'one', b2: 'two' }) });
  assert.equal(await batch.json(), [['b1', 'one'], ['b2', 'two'], null]);
  assert.is((await n.call('kv-js', { path: '/get/b1' })).status, 404, 'delete-many removed b1');
  const deleted = await n.call('kv-js', { path: '/delete/b2' });
  assert.match(await deleted.text(), 'exists: false');
});

test('the writes of a call that fails are not committed', async ({ n }) => {
  const res = await n.call('kv-js', { path: '/fail/doomed' });
  assert.ok(res.status >= 500);
  await res.text().catch(() => undefined);
  assert.is((await n.call('kv-js', { path: '/get/doomed' })).status, 404);
});

test('state survives a restart', async ({ n }) => {
  const before = Number(await body(await n.call('kv-js', { path: '/' })));
  await n.restart();
  assert.is(Number(await body(await n.call('kv-js', { path: '/' }))), before + 1);
});

test.run();
