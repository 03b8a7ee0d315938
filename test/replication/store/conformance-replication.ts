// Conformance: merging siblings received from peers (FReD PutItem/AppendItem on the receiver).
import * as assert from 'uvu/assert';
import type { Sibling, Version } from '../../../replication/store/port.js';
import { T0, dumpAll, rejects, set, values, versions, type StoreSuite } from './helpers.js';

const remote = (value: string, version: Version, tombstone = false): Omit<Sibling, 'storedAt'> => ({
  value,
  version,
  tombstone,
});

export function registerReplicationTests(test: StoreSuite): void {
  test('a remote write to a new id is stored with the local time and without a local tick', async ({ fx }) => {
    fx.now = T0 + 5;
    assert.is(await fx.store.mergeRemote('kv', 'x', remote('v', { B: 3 })), true);
    assert.equal(await fx.store.read('kv', 'x'), [{ value: 'v', version: { B: 3 }, tombstone: false, storedAt: T0 + 5 }]);
    const [applied] = await set(fx.store, 'x', 'local');
    assert.equal(applied!.sibling.version, { A: 1, B: 3 });
  });

  test('an older or equal remote version is ignored', async ({ fx }) => {
    await set(fx.store, 'x', 'one');
    await set(fx.store, 'x', 'two'); // {A:2}
    assert.is(await fx.store.mergeRemote('kv', 'x', remote('stale', { A: 1 })), false);
    assert.is(await fx.store.mergeRemote('kv', 'x', remote('same', { A: 2 })), false);
    assert.is(await fx.store.mergeRemote('kv', 'x', remote('gone', { A: 1 }, true)), false);
    assert.equal(await fx.store.read('kv', 'x'), [{ value: 'two', version: { A: 2 }, tombstone: false, storedAt: T0 }]);
  });

  test('a newer remote version supersedes the stored one', async ({ fx }) => {
    await set(fx.store, 'x', 'mine');
    assert.is(await fx.store.mergeRemote('kv', 'x', remote('theirs', { A: 1, B: 1 })), true);
    assert.equal(versions(await fx.store.read('kv', 'x')), [{ A: 1, B: 1 }]);
    assert.equal(values(await fx.store.read('kv', 'x')), ['theirs']);
    // FReD's rule: a node id only one clock has makes it bigger, even with counter 0.
    assert.is(await fx.store.mergeRemote('kv', 'x', remote('zero', { A: 1, B: 1, C: 0 })), true);
    assert.equal(values(await fx.store.read('kv', 'x')), ['zero']);
  });

  test('a concurrent remote version is kept as a sibling, winner first', async ({ fx }) => {
    await set(fx.store, 'x', 'mine'); // {A:1}
    assert.is(await fx.store.mergeRemote('kv', 'x', remote('theirs', { B: 2 })), true);
    // More total ticks wins.
    assert.equal(values(await fx.store.read('kv', 'x')), ['theirs', 'mine']);
    await set(fx.store, 'y', 'mine');
    await fx.store.mergeRemote('kv', 'y', remote('theirs', { B: 1 }));
    // Equal ticks: the greater canonical version text wins ('B:1' > 'A:1').
    assert.equal(values(await fx.store.read('kv', 'y')), ['theirs', 'mine']);
    const [item] = await fx.store.scan('kv', { start: 'y', count: 1 });
    assert.equal(values(item!.siblings), ['theirs', 'mine']);
  });

  test('a remote version replaces only the siblings it supersedes', async ({ fx }) => {
    await set(fx.store, 'x', 'a'); // {A:1}
    await fx.store.mergeRemote('kv', 'x', remote('b', { B: 1 }));
    assert.is(await fx.store.mergeRemote('kv', 'x', remote('ac', { A: 1, C: 1 })), true);
    assert.equal(
      (await fx.store.read('kv', 'x')).map((s) => [s.value, s.version]),
      [['ac', { A: 1, C: 1 }], ['b', { B: 1 }]],
    );
  });

  test('a local write supersedes all siblings with their merged version plus a tick', async ({ fx }) => {
    await set(fx.store, 'x', 'mine'); // {A:1}
    await fx.store.mergeRemote('kv', 'x', remote('b', { B: 2 }));
    await fx.store.mergeRemote('kv', 'x', remote('c', { C: 1 }));
    assert.is((await fx.store.read('kv', 'x')).length, 3);
    const [applied] = await set(fx.store, 'x', 'resolved');
    assert.equal(applied!.sibling.version, { A: 2, B: 2, C: 1 });
    assert.equal(await fx.store.read('kv', 'x'), [applied!.sibling]);
  });

  test('a newer remote tombstone hides the value and blocks a local delete', async ({ fx }) => {
    await set(fx.store, 'x', 'v');
    assert.is(await fx.store.mergeRemote('kv', 'x', remote('', { A: 1, B: 1 }, true)), true);
    assert.equal(await fx.store.read('kv', 'x'), []);
    assert.equal(await fx.store.scan('kv', { start: '', count: 10 }), []);
    assert.equal(await dumpAll(fx.store, 'kv'), [
      { id: 'x', siblings: [{ value: '', version: { A: 1, B: 1 }, tombstone: true, storedAt: T0 }] },
    ]);
    await rejects(() => fx.store.applyLocal([{ kind: 'delete', keygroup: 'kv', id: 'x' }]), 'ERR_ITEM_NOT_FOUND');
  });

  test('a concurrent remote tombstone stays hidden beside the live value', async ({ fx }) => {
    await set(fx.store, 'x', 'v'); // {A:1}
    assert.is(await fx.store.mergeRemote('kv', 'x', remote('', { B: 5 }, true)), true);
    assert.equal(values(await fx.store.read('kv', 'x')), ['v']);
    assert.is((await dumpAll(fx.store, 'kv'))[0]!.siblings.length, 2);
    // Deleting locally supersedes both.
    const [deleted] = await fx.store.applyLocal([{ kind: 'delete', keygroup: 'kv', id: 'x' }]);
    assert.equal(deleted!.sibling.version, { A: 2, B: 5 });
    assert.equal(await dumpAll(fx.store, 'kv'), [{ id: 'x', siblings: [deleted!.sibling] }]);
  });

  test('remote appends to an immutable keygroup store once and never overwrite', async ({ fx }) => {
    await fx.store.createKeygroup({ name: 'log', mutable: false, expiry: 0 });
    assert.is(await fx.store.mergeRemote('log', '1', remote('first', {})), true);
    assert.is(await fx.store.mergeRemote('log', '1', remote('second', {})), false);
    assert.equal(values(await fx.store.read('log', '1')), ['first']);
    await rejects(() => fx.store.applyLocal([{ kind: 'append', keygroup: 'log', id: '1', value: 'x' }]), 'ERR_ITEM_EXISTS');
    await rejects(() => fx.store.mergeRemote('log', '2', remote('', {}, true)), 'ERR_WRONG_MUTABILITY');
  });

  test('malformed remote versions are rejected', async ({ fx }) => {
    for (const version of [{ B: -1 }, { B: 1.5 }, { 'B:1': 1 }, { '': 1 }] as Version[]) {
      await rejects(() => fx.store.mergeRemote('kv', 'x', remote('v', version)), 'ERR_INVALID_VALUE');
    }
    assert.equal(await fx.store.read('kv', 'x'), []);
  });
}
