// Conformance: local writes, batches, immutable keygroups, scans, expiry and input validation.
import * as assert from 'uvu/assert';
import type { LocalWrite, StoreErrorCode } from '../../../replication/store/port.js';
import { T0, dumpAll, rejects, set, values, versions, type StoreSuite } from './helpers.js';

export function registerItemTests(test: StoreSuite): void {
  test('a set is read back with a version ticked for this node', async ({ fx }) => {
    const [applied] = await set(fx.store, 'x', 'hello');
    assert.equal(applied, {
      keygroup: 'kv',
      id: 'x',
      sibling: { value: 'hello', version: { A: 1 }, tombstone: false, storedAt: T0 },
    });
    assert.equal(await fx.store.read('kv', 'x'), [applied!.sibling]);
    assert.equal(await fx.store.read('kv', 'other'), []);
  });

  test('an overwrite replaces the value and ticks the version again', async ({ fx }) => {
    await set(fx.store, 'x', 'one');
    await set(fx.store, 'x', 'two');
    const siblings = await fx.store.read('kv', 'x');
    assert.equal(values(siblings), ['two']);
    assert.equal(versions(siblings), [{ A: 2 }]);
  });

  test('readMany answers in the order asked, with [] for absent ids', async ({ fx }) => {
    await set(fx.store, 'a', '1');
    await set(fx.store, 'b', '2');
    const result = await fx.store.readMany('kv', ['b', 'zz', 'a']);
    assert.equal(result.map(values), [['2'], [], ['1']]);
  });

  test('a delete hides the item, keeps a tombstone, and cannot be repeated', async ({ fx }) => {
    await set(fx.store, 'x', 'v');
    const [deleted] = await fx.store.applyLocal([{ kind: 'delete', keygroup: 'kv', id: 'x' }]);
    assert.equal(deleted!.sibling, { value: '', version: { A: 2 }, tombstone: true, storedAt: T0 });
    assert.equal(await fx.store.read('kv', 'x'), []);
    assert.equal(await dumpAll(fx.store, 'kv'), [{ id: 'x', siblings: [deleted!.sibling] }]);
    await rejects(() => fx.store.applyLocal([{ kind: 'delete', keygroup: 'kv', id: 'x' }]), 'ERR_ITEM_NOT_FOUND');
    await rejects(() => fx.store.applyLocal([{ kind: 'delete', keygroup: 'kv', id: 'never' }]), 'ERR_ITEM_NOT_FOUND');
    // Writing again supersedes the tombstone.
    const [again] = await set(fx.store, 'x', 'back');
    assert.equal(again!.sibling.version, { A: 3 });
    assert.equal(values(await fx.store.read('kv', 'x')), ['back']);
  });

  test('a batch that fails validation writes nothing', async ({ fx }) => {
    await set(fx.store, 'kept', 'old');
    const good: LocalWrite[] = [
      { kind: 'set', keygroup: 'kv', id: 'a', value: '1' },
      { kind: 'set', keygroup: 'kv', id: 'kept', value: 'new' },
    ];
    const bad: Array<[LocalWrite, StoreErrorCode]> = [
      [{ kind: 'set', keygroup: 'kv', id: 'a-b', value: '3' }, 'ERR_INVALID_KEY'],
      [{ kind: 'set', keygroup: 'kv', id: 'c', value: '' }, 'ERR_INVALID_VALUE'],
      [{ kind: 'set', keygroup: 'nope', id: 'c', value: '3' }, 'ERR_KEYGROUP_NOT_FOUND'],
      [{ kind: 'delete', keygroup: 'kv', id: 'absent' }, 'ERR_ITEM_NOT_FOUND'],
      [{ kind: 'append', keygroup: 'kv', id: '7', value: '3' }, 'ERR_WRONG_MUTABILITY'],
    ];
    for (const [write, code] of bad) {
      await rejects(() => fx.store.applyLocal([...good, write]), code);
    }
    assert.equal(await fx.store.read('kv', 'a'), []);
    assert.equal(values(await fx.store.read('kv', 'kept')), ['old']);
    assert.equal(versions(await fx.store.read('kv', 'kept')), [{ A: 1 }]);
  });

  test('writes to one id within a batch apply in order', async ({ fx }) => {
    const applied = await fx.store.applyLocal([
      { kind: 'set', keygroup: 'kv', id: 'x', value: '1' },
      { kind: 'set', keygroup: 'kv', id: 'x', value: '2' },
      { kind: 'set', keygroup: 'kv', id: 'y', value: 'y' },
      { kind: 'delete', keygroup: 'kv', id: 'y' },
      { kind: 'set', keygroup: 'kv', id: 'z', value: 'z' },
      { kind: 'delete', keygroup: 'kv', id: 'z' },
      { kind: 'set', keygroup: 'kv', id: 'z', value: 'z2' },
    ]);
    assert.equal(
      applied.map((a) => [a.id, a.sibling.value, a.sibling.version]),
      [['x', '1', { A: 1 }], ['x', '2', { A: 2 }], ['y', 'y', { A: 1 }], ['y', '', { A: 2 }],
        ['z', 'z', { A: 1 }], ['z', '', { A: 2 }], ['z', 'z2', { A: 3 }]],
    );
    assert.equal(values(await fx.store.read('kv', 'x')), ['2']);
    assert.equal(await fx.store.read('kv', 'y'), []);
    assert.equal(versions(await fx.store.read('kv', 'z')), [{ A: 3 }]);
    assert.equal(await fx.store.applyLocal([]), []);
  });

  test('concurrent applyLocal calls on one id lose no update', async ({ fx }) => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => set(fx.store, 'counter', String(i))),
    );
    const ticks = results.map(([a]) => a!.sibling.version.A).sort((a, b) => a! - b!);
    assert.equal(ticks, Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal(versions(await fx.store.read('kv', 'counter')), [{ A: 20 }]);
  });

  test('immutable keygroups take appends of new decimal ids only', async ({ fx }) => {
    await fx.store.createKeygroup({ name: 'log', mutable: false, expiry: 0 });
    const [appended] = await fx.store.applyLocal([{ kind: 'append', keygroup: 'log', id: '42', value: 'v' }]);
    assert.equal(appended!.sibling.version, {});
    assert.equal(values(await fx.store.read('log', '42')), ['v']);
    const write = (kind: 'set' | 'delete' | 'append', id = '42') =>
      fx.store.applyLocal([{ kind, keygroup: 'log', id, value: 'w' } as LocalWrite]);
    await rejects(() => write('append'), 'ERR_ITEM_EXISTS');
    await rejects(() => write('set'), 'ERR_WRONG_MUTABILITY');
    await rejects(() => write('delete'), 'ERR_WRONG_MUTABILITY');
    await rejects(() => write('append', 'abc'), 'ERR_INVALID_KEY');
    await rejects(() => write('append', '042'), 'ERR_INVALID_KEY');
    await rejects(
      () => fx.store.applyLocal([
        { kind: 'append', keygroup: 'log', id: '1', value: 'a' },
        { kind: 'append', keygroup: 'log', id: '1', value: 'b' },
      ]),
      'ERR_ITEM_EXISTS',
    );
    assert.equal(await fx.store.read('log', '1'), []);
    assert.equal(values(await fx.store.read('log', '42')), ['v']);
  });

  test('scan returns live items in code-unit order from start, up to count', async ({ fx }) => {
    for (const id of ['c', 'b1', 'a', 'b', 'B', '10', '9', '1']) await set(fx.store, id, `v${id}`);
    const ids = async (start: string, count: number) =>
      (await fx.store.scan('kv', { start, count })).map((item) => item.id);
    assert.equal(await ids('', 100), ['1', '10', '9', 'B', 'a', 'b', 'b1', 'c']);
    assert.equal(await ids('b', 100), ['b', 'b1', 'c']);
    assert.equal(await ids('b0', 100), ['b1', 'c']);
    assert.equal(await ids('', 3), ['1', '10', '9']);
    assert.equal(await ids('a', 0), []);
    const [first] = await fx.store.scan('kv', { start: 'c', count: 1 });
    assert.equal(first, { id: 'c', siblings: [{ value: 'vc', version: { A: 1 }, tombstone: false, storedAt: T0 }] });
    // Deleted items are skipped and do not use up the count.
    await fx.store.applyLocal([{ kind: 'delete', keygroup: 'kv', id: 'b' }, { kind: 'delete', keygroup: 'kv', id: 'b1' }]);
    assert.equal(await ids('a', 2), ['a', 'c']);
  });

  test('keygroups whose names share a prefix do not see each other', async ({ fx }) => {
    await fx.store.createKeygroup({ name: 'a', mutable: true, expiry: 0 });
    await fx.store.createKeygroup({ name: 'ab', mutable: true, expiry: 0 });
    await set(fx.store, 'x', 'in-a', 'a');
    await set(fx.store, 'bx', 'in-a', 'a');
    await set(fx.store, 'x', 'in-ab', 'ab');
    const scanIds = async (kg: string) => (await fx.store.scan(kg, { start: '', count: 10 })).map((i) => i.id);
    assert.equal(await scanIds('a'), ['bx', 'x']);
    assert.equal(await scanIds('ab'), ['x']);
    assert.equal(values(await fx.store.read('ab', 'x')), ['in-ab']);
    assert.equal(await fx.store.read('ab', 'bx'), []);
    await fx.store.deleteKeygroup('a');
    assert.equal(await scanIds('ab'), ['x']);
  });

  test('items expire after the keygroup expiry on the store clock', async ({ fx }) => {
    await fx.store.createKeygroup({ name: 'tmp', mutable: true, expiry: 10 });
    await set(fx.store, 'x', 'v', 'tmp');
    await set(fx.store, 'kv', 'forever');
    fx.now = T0 + 9_999;
    assert.equal(values(await fx.store.read('tmp', 'x')), ['v']);
    fx.now = T0 + 10_000;
    assert.equal(await fx.store.read('tmp', 'x'), []);
    assert.equal(await fx.store.readMany('tmp', ['x']), [[]]);
    assert.equal(await fx.store.scan('tmp', { start: '', count: 5 }), []);
    assert.equal(await dumpAll(fx.store, 'tmp'), []);
    await rejects(() => fx.store.applyLocal([{ kind: 'delete', keygroup: 'tmp', id: 'x' }]), 'ERR_ITEM_NOT_FOUND');
    // A keygroup with expiry 0 keeps its items however late it gets.
    fx.now = T0 + 10 * 365 * 86_400_000;
    assert.equal(values(await fx.store.read('kv', 'kv')), ['forever']);
    // A new write starts a new lifetime.
    await set(fx.store, 'x', 'w', 'tmp');
    assert.equal(values(await fx.store.read('tmp', 'x')), ['w']);
  });

  test('expired siblings can be purged without changing what readers see', async ({ fx }) => {
    const store = fx.store as typeof fx.store & { purgeExpired?: () => Promise<number> };
    if (typeof store.purgeExpired !== 'function') return; // optional capability, like a `supports` flag
    await store.createKeygroup({ name: 'tmp', mutable: true, expiry: 10 });
    await set(store, 'old', 'v', 'tmp');
    await store.mergeRemote('tmp', 'mixed', { value: 'early', version: { B: 1 }, tombstone: false });
    fx.now = T0 + 5_000;
    await store.mergeRemote('tmp', 'mixed', { value: 'late', version: { C: 1 }, tombstone: false });
    await set(store, 'kept', 'k', 'tmp');
    fx.now = T0 + 12_000;
    assert.is(await store.purgeExpired(), 2);
    assert.equal((await dumpAll(store, 'tmp')).map((i) => [i.id, values(i.siblings)]), [['kept', ['k']], ['mixed', ['late']]]);
    assert.is(await store.purgeExpired(), 0);
  });

  test('invalid ids and values are rejected with ERR_INVALID_KEY / ERR_INVALID_VALUE', async ({ fx }) => {
    for (const id of ['', 'a-b', 'ä', 'a'.repeat(513)]) {
      await rejects(() => set(fx.store, id, 'v'), 'ERR_INVALID_KEY');
      await rejects(() => fx.store.read('kv', id), 'ERR_INVALID_KEY');
      await rejects(() => fx.store.mergeRemote('kv', id, { value: 'v', version: { B: 1 }, tombstone: false }), 'ERR_INVALID_KEY');
    }
    await rejects(() => set(fx.store, 'a-b', 'v'), 'ERR_INVALID_KEY', 'a-b');
    await rejects(() => fx.store.scan('kv', { start: 'a b', count: 1 }), 'ERR_INVALID_KEY');
    await set(fx.store, 'a'.repeat(512), 'v');
    await rejects(() => set(fx.store, 'x', ''), 'ERR_INVALID_VALUE');
    await rejects(() => set(fx.store, 'x', 'bad\ud800'), 'ERR_INVALID_VALUE');
    await rejects(() => fx.store.mergeRemote('kv', 'x', { value: '', version: { B: 1 }, tombstone: false }), 'ERR_INVALID_VALUE');
    assert.equal(await fx.store.read('kv', 'x'), []);
  });

  test('values are limited to 4 MiB of UTF-8 by default', async ({ fx }) => {
    const mib4 = 4 * 1024 * 1024;
    await set(fx.store, 'max', 'é'.repeat(mib4 / 2)); // 2 bytes each: exactly the limit
    await rejects(() => set(fx.store, 'over', 'é'.repeat(mib4 / 2) + 'x'), 'ERR_INVALID_VALUE');
    assert.is((await fx.store.read('kv', 'max'))[0]!.value.length, mib4 / 2);
    assert.equal(await fx.store.read('kv', 'over'), []);
  });

  test('returned siblings are copies that cannot change the store', async ({ fx }) => {
    const [applied] = await set(fx.store, 'x', 'v');
    applied!.sibling.version.A = 99;
    const [read] = await fx.store.read('kv', 'x');
    read!.version.A = 77;
    read!.value = 'changed';
    assert.equal(await fx.store.read('kv', 'x'), [{ value: 'v', version: { A: 1 }, tombstone: false, storedAt: T0 }]);
  });
}
