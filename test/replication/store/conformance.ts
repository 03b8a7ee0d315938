// The ReplicaStore contract as one uvu suite; every implementation runs it through a factory.
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { registerConditionalTests } from './conformance-conditional.js';
import { registerItemTests } from './conformance-items.js';
import { registerReplicationTests } from './conformance-replication.js';
import { T0, dumpAll, rejects, set, values, type Fixture, type StoreFactory, type StoreSuite } from './helpers.js';

export type { StoreFactory, StoreHarness } from './helpers.js';

export function runStoreConformance(name: string, factory: StoreFactory): void {
  const test = suite<{ fx: Fixture }>(`${name} conformance`);
  test.before.each(async (ctx) => {
    const fx = { now: T0 } as Fixture;
    fx.harness = await factory({ nodeId: 'A', clock: () => fx.now });
    fx.store = fx.harness.store;
    await fx.store.createKeygroup({ name: 'kv', mutable: true, expiry: 0 });
    ctx.fx = fx;
  });
  test.after.each(async (ctx) => {
    await ctx.fx.harness.cleanup();
  });
  registerKeygroupTests(test);
  registerItemTests(test);
  registerConditionalTests(test);
  registerReplicationTests(test);
  test.run();
}

function registerKeygroupTests(test: StoreSuite): void {
  test('created keygroups are listed in name order with their settings', async ({ fx }) => {
    await fx.store.createKeygroup({ name: 'log', mutable: false, expiry: 30 });
    await fx.store.createKeygroup({ name: 'Zeta', mutable: true, expiry: 0 });
    assert.equal(await fx.store.getKeygroup('log'), { name: 'log', mutable: false, expiry: 30 });
    assert.equal(
      (await fx.store.listKeygroups()).map((k) => k.name),
      ['Zeta', 'kv', 'log'],
    );
    assert.is(await fx.store.getKeygroup('nope'), undefined);
  });

  test('creating an existing keygroup fails and keeps the original', async ({ fx }) => {
    await rejects(() => fx.store.createKeygroup({ name: 'kv', mutable: false, expiry: 5 }), 'ERR_KEYGROUP_EXISTS');
    assert.equal(await fx.store.getKeygroup('kv'), { name: 'kv', mutable: true, expiry: 0 });
  });

  test('keygroup names are validated', async ({ fx }) => {
    for (const name of ['', 'a-b', 'ä', 'a'.repeat(513)]) {
      await rejects(() => fx.store.createKeygroup({ name, mutable: true, expiry: 0 }), 'ERR_INVALID_KEY');
    }
    await fx.store.createKeygroup({ name: 'k'.repeat(512), mutable: true, expiry: 0 });
    assert.is((await fx.store.listKeygroups()).length, 2);
  });

  test('deleting a keygroup removes it with its items; a new one of that name starts empty', async ({ fx }) => {
    await set(fx.store, 'x', '1');
    await fx.store.deleteKeygroup('kv');
    assert.is(await fx.store.getKeygroup('kv'), undefined);
    await rejects(() => fx.store.read('kv', 'x'), 'ERR_KEYGROUP_NOT_FOUND');
    await rejects(() => fx.store.deleteKeygroup('kv'), 'ERR_KEYGROUP_NOT_FOUND');
    await fx.store.createKeygroup({ name: 'kv', mutable: true, expiry: 0 });
    assert.equal(await fx.store.read('kv', 'x'), []);
    assert.equal(await dumpAll(fx.store, 'kv'), []);
  });

  test('a changed expiry applies to stored items at once', async ({ fx }) => {
    await set(fx.store, 'old', 'o');
    fx.now = T0 + 4_000;
    await set(fx.store, 'young', 'y');
    await fx.store.setKeygroupExpiry('kv', 5);
    assert.equal(await fx.store.getKeygroup('kv'), { name: 'kv', mutable: true, expiry: 5 });
    fx.now = T0 + 4_999;
    assert.equal(values(await fx.store.read('kv', 'old')), ['o']);
    fx.now = T0 + 5_000;
    assert.equal(await fx.store.read('kv', 'old'), []);
    assert.equal((await fx.store.scan('kv', { start: '', count: 10 })).map((i) => i.id), ['young']);
    fx.now = T0 + 9_000;
    assert.equal(await fx.store.read('kv', 'young'), []);
  });

  test('setKeygroupExpiry checks the keygroup and the expiry', async ({ fx }) => {
    await rejects(() => fx.store.setKeygroupExpiry('nope', 5), 'ERR_KEYGROUP_NOT_FOUND');
    for (const expiry of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      await rejects(() => fx.store.setKeygroupExpiry('kv', expiry), 'ERR_INVALID_VALUE');
    }
    assert.equal(await fx.store.getKeygroup('kv'), { name: 'kv', mutable: true, expiry: 0 });
  });

  test('a changed expiry survives closing and reopening', async ({ fx }) => {
    if (!fx.harness.reopen) return;
    await set(fx.store, 'x', 'v');
    await fx.store.createKeygroup({ name: 'log', mutable: false, expiry: 60 });
    await fx.store.setKeygroupExpiry('kv', 10);
    await fx.store.setKeygroupExpiry('log', 0);
    const store = (fx.store = await fx.harness.reopen());
    assert.equal(await store.listKeygroups(), [
      { name: 'kv', mutable: true, expiry: 10 },
      { name: 'log', mutable: false, expiry: 0 },
    ]);
    fx.now = T0 + 9_999;
    assert.equal(values(await store.read('kv', 'x')), ['v']);
    fx.now = T0 + 10_000;
    assert.equal(await store.read('kv', 'x'), []);
  });

  test('item operations on an unknown keygroup fail with ERR_KEYGROUP_NOT_FOUND', async ({ fx }) => {
    const s = fx.store;
    await rejects(() => s.read('nope', 'x'), 'ERR_KEYGROUP_NOT_FOUND');
    await rejects(() => s.readMany('nope', ['x']), 'ERR_KEYGROUP_NOT_FOUND');
    await rejects(() => s.scan('nope', { start: '', count: 10 }), 'ERR_KEYGROUP_NOT_FOUND');
    await rejects(() => set(s, 'x', '1', 'nope'), 'ERR_KEYGROUP_NOT_FOUND');
    await rejects(() => s.mergeRemote('nope', 'x', { value: '1', version: { B: 1 }, tombstone: false }), 'ERR_KEYGROUP_NOT_FOUND');
    await rejects(() => dumpAll(s, 'nope'), 'ERR_KEYGROUP_NOT_FOUND');
  });

  test('a closed store rejects calls with ERR_STORE_CLOSED', async ({ fx }) => {
    await fx.store.close();
    await rejects(() => fx.store.read('kv', 'x'), 'ERR_STORE_CLOSED');
    await rejects(() => set(fx.store, 'x', '1'), 'ERR_STORE_CLOSED');
    await rejects(() => fx.store.listKeygroups(), 'ERR_STORE_CLOSED');
  });

  test('data survives closing and reopening', async ({ fx }) => {
    if (!fx.harness.reopen) return; // a factory without reopen makes no promise about closing
    await fx.store.createKeygroup({ name: 'log', mutable: false, expiry: 60 });
    await fx.store.createKeygroup({ name: 'gone', mutable: true, expiry: 0 });
    await set(fx.store, 'x', 'one');
    await fx.store.mergeRemote('kv', 'x', { value: 'two', version: { B: 1 }, tombstone: false });
    await set(fx.store, 'y', 'y');
    await fx.store.applyLocal([{ kind: 'delete', keygroup: 'kv', id: 'y' }]);
    await fx.store.applyLocal([{ kind: 'append', keygroup: 'log', id: '1', value: 'entry' }]);
    await set(fx.store, 'z', 'z', 'gone');
    await fx.store.deleteKeygroup('gone');
    const before = await dumpAll(fx.store, 'kv');

    const store = (fx.store = await fx.harness.reopen());
    assert.equal((await store.listKeygroups()).map((k) => k.name), ['kv', 'log']);
    assert.equal(await store.getKeygroup('log'), { name: 'log', mutable: false, expiry: 60 });
    assert.equal(await dumpAll(store, 'kv'), before);
    assert.equal(values(await store.read('kv', 'x')), ['two', 'one']);
    assert.equal(values(await store.read('log', '1')), ['entry']);
    // The version counter continues from the stored versions, not from zero.
    const [applied] = await set(store, 'y', 'again');
    assert.equal(applied!.sibling.version, { A: 3 });
  });
}
