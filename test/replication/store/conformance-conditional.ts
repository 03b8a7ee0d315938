// Conformance: conditional set/delete (FReD's Update/Delete with versions) — the version check,
// the new version, siblings, tombstones, validation, durability and serialisation.
import * as assert from 'uvu/assert';
import type { ReplicaStore, Version } from '../../../replication/store/port.js';
import { T0, dumpAll, rejects, set, values, versions, type StoreSuite } from './helpers.js';

/** A conditional set (value given) or delete (value undefined) of kv/<id>. */
function cond(store: ReplicaStore, id: string, value: string | undefined, given: Version[], keygroup = 'kv') {
  return store.applyConditional(
    value === undefined ? { kind: 'delete', keygroup, id } : { kind: 'set', keygroup, id, value },
    given,
  );
}

export function registerConditionalTests(test: StoreSuite): void {
  test('a conditional set with the current version succeeds with merge(given) + one tick', async ({ fx }) => {
    await set(fx.store, 'x', 'one');
    fx.now = T0 + 5;
    const applied = await cond(fx.store, 'x', 'two', [{ A: 1, C: 4 }]);
    assert.equal(applied, {
      keygroup: 'kv',
      id: 'x',
      sibling: { value: 'two', version: { A: 2, C: 4 }, tombstone: false, storedAt: T0 + 5 },
    });
    assert.equal(await fx.store.read('kv', 'x'), [applied.sibling]);
    // A later plain write continues from the conditional one.
    const [next] = await set(fx.store, 'x', 'three');
    assert.equal(next!.sibling.version, { A: 3, C: 4 });
  });

  test('a conditional set of an absent item creates it', async ({ fx }) => {
    const applied = await cond(fx.store, 'new', 'v', [{}]);
    assert.equal(applied.sibling.version, { A: 1 });
    assert.equal(values(await fx.store.read('kv', 'new')), ['v']);
  });

  test('a conditional set with a stale version is a conflict and writes nothing', async ({ fx }) => {
    await set(fx.store, 'x', 'one');
    await set(fx.store, 'x', 'two');
    await rejects(() => cond(fx.store, 'x', 'lost', [{ A: 1 }]), 'ERR_VERSION_CONFLICT', '{A:2}');
    await rejects(() => cond(fx.store, 'x', 'lost', [{ B: 7 }]), 'ERR_VERSION_CONFLICT');
    assert.equal(await dumpAll(fx.store, 'kv'), [
      { id: 'x', siblings: [{ value: 'two', version: { A: 2 }, tombstone: false, storedAt: T0 }] },
    ]);
  });

  test('given versions covering every sibling resolve them into one', async ({ fx }) => {
    await set(fx.store, 'x', 'local');
    await fx.store.mergeRemote('kv', 'x', { value: 'remote', version: { B: 1 }, tombstone: false });
    const applied = await cond(fx.store, 'x', 'both', [{ A: 1 }, { B: 1 }]);
    assert.equal(applied.sibling.version, { A: 2, B: 1 });
    assert.equal(values(await fx.store.read('kv', 'x')), ['both']);
    assert.equal((await dumpAll(fx.store, 'kv'))[0]!.siblings.length, 1);
  });

  test('given versions covering only one sibling are a conflict; both siblings stay', async ({ fx }) => {
    await set(fx.store, 'x', 'local');
    await fx.store.mergeRemote('kv', 'x', { value: 'remote', version: { B: 1 }, tombstone: false });
    await rejects(() => cond(fx.store, 'x', 'half', [{ A: 1 }]), 'ERR_VERSION_CONFLICT', '{B:1}');
    await rejects(() => cond(fx.store, 'x', 'half', [{ B: 1 }]), 'ERR_VERSION_CONFLICT', '{A:1}');
    assert.equal(values(await fx.store.read('kv', 'x')), ['remote', 'local']);
  });

  test('a conditional delete writes a tombstone; an absent item cannot be deleted', async ({ fx }) => {
    await set(fx.store, 'x', 'v');
    const deleted = await cond(fx.store, 'x', undefined, [{ A: 1 }]);
    assert.equal(deleted.sibling, { value: '', version: { A: 2 }, tombstone: true, storedAt: T0 });
    assert.equal(await fx.store.read('kv', 'x'), []);
    assert.equal(await dumpAll(fx.store, 'kv'), [{ id: 'x', siblings: [deleted.sibling] }]);
    await rejects(() => cond(fx.store, 'x', undefined, [{ A: 2 }]), 'ERR_ITEM_NOT_FOUND');
    await rejects(() => cond(fx.store, 'never', undefined, [{ A: 1 }]), 'ERR_ITEM_NOT_FOUND');
  });

  test('a stored tombstone equal to or newer than the new version is a conflict', async ({ fx }) => {
    await set(fx.store, 'x', 'v');
    await fx.store.applyLocal([{ kind: 'delete', keygroup: 'kv', id: 'x' }]); // tombstone {A:2}
    // The client saw {A:1}: its write would get {A:2}, which the tombstone already is.
    await rejects(() => cond(fx.store, 'x', 'stale', [{ A: 1 }]), 'ERR_VERSION_CONFLICT', 'deleted');
    assert.equal(await fx.store.read('kv', 'x'), []);
    // Having seen the tombstone's version, the write supersedes it.
    assert.equal((await cond(fx.store, 'x', 'back', [{ A: 2 }])).sibling.version, { A: 3 });
    assert.equal(versions((await dumpAll(fx.store, 'kv'))[0]!.siblings), [{ A: 3 }]);
  });

  test('a tombstone concurrent with the new version stays as a sibling', async ({ fx }) => {
    await fx.store.mergeRemote('kv', 'x', { value: '', version: { B: 1 }, tombstone: true });
    const applied = await cond(fx.store, 'x', 'v', [{ C: 1 }]);
    assert.equal(applied.sibling.version, { A: 1, C: 1 });
    assert.equal(values(await fx.store.read('kv', 'x')), ['v']);
    assert.equal(versions((await dumpAll(fx.store, 'kv'))[0]!.siblings), [{ A: 1, C: 1 }, { B: 1 }]);
  });

  test('conditional writes are validated like local ones, and given must be non-empty and valid', async ({ fx }) => {
    await fx.store.createKeygroup({ name: 'log', mutable: false, expiry: 0 });
    await fx.store.applyLocal([{ kind: 'append', keygroup: 'log', id: '1', value: 'entry' }]);
    await set(fx.store, 'x', 'v');
    await rejects(() => cond(fx.store, '1', 'v', [{}], 'log'), 'ERR_WRONG_MUTABILITY');
    await rejects(() => cond(fx.store, '1', undefined, [{}], 'log'), 'ERR_WRONG_MUTABILITY');
    await rejects(() => cond(fx.store, 'x', 'v', [{ A: 1 }], 'nope'), 'ERR_KEYGROUP_NOT_FOUND');
    await rejects(() => cond(fx.store, 'a-b', 'v', [{ A: 1 }]), 'ERR_INVALID_KEY');
    await rejects(() => cond(fx.store, 'x', '', [{ A: 1 }]), 'ERR_INVALID_VALUE');
    await rejects(() => cond(fx.store, 'x', 'v', []), 'ERR_INVALID_VALUE');
    await rejects(() => cond(fx.store, 'x', 'v', [{ A: -1 }]), 'ERR_INVALID_VALUE');
    await rejects(() => cond(fx.store, 'x', 'v', [{ 'A:B': 1 }]), 'ERR_INVALID_VALUE');
    await rejects(() => cond(fx.store, 'x', 'v', [{ A: 1.5 }]), 'ERR_INVALID_VALUE');
    await rejects(
      () => fx.store.applyConditional({ kind: 'append', keygroup: 'log', id: '2', value: 'v' } as never, [{}]),
      'ERR_INVALID_VALUE',
    );
    assert.equal(values(await fx.store.read('log', '1')), ['entry']);
    assert.equal(versions(await fx.store.read('kv', 'x')), [{ A: 1 }]);
  });

  test('concurrent conditional writes with the same given version: exactly one succeeds', async ({ fx }) => {
    await set(fx.store, 'x', 'start');
    const results = await Promise.allSettled(
      ['p', 'q', 'r', 's'].map((value) => cond(fx.store, 'x', value, [{ A: 1 }])),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.is(won.length, 1);
    for (const r of lost) assert.is((r.reason as { code?: unknown }).code, 'ERR_VERSION_CONFLICT');
    const winner = (won[0] as PromiseFulfilledResult<{ sibling: { value: string } }>).value.sibling.value;
    assert.equal(values(await fx.store.read('kv', 'x')), [winner]);
    assert.equal(versions(await fx.store.read('kv', 'x')), [{ A: 2 }]);
  });

  test('conditional writes are serialised with local ones', async ({ fx }) => {
    await set(fx.store, 'x', 'start');
    // In either order the plain write wins: after the conditional one it supersedes it, before
    // it the conditional one no longer covers what is stored. Only an interleaving loses it.
    const [local, conditional] = await Promise.allSettled([set(fx.store, 'x', 'local'), cond(fx.store, 'x', 'c', [{ A: 1 }])]);
    assert.is(local.status, 'fulfilled');
    if (conditional.status === 'rejected') assert.is((conditional.reason as { code?: unknown }).code, 'ERR_VERSION_CONFLICT');
    const stored = (await dumpAll(fx.store, 'kv'))[0]!.siblings;
    assert.equal(values(stored), ['local']);
    assert.equal(versions(stored), [conditional.status === 'fulfilled' ? { A: 3 } : { A: 2 }]);
  });

  test('a closed store rejects conditional writes with ERR_STORE_CLOSED', async ({ fx }) => {
    await fx.store.close();
    await rejects(() => cond(fx.store, 'x', 'v', [{}]), 'ERR_STORE_CLOSED');
  });

  test('conditional writes survive closing and reopening', async ({ fx }) => {
    if (!fx.harness.reopen) return;
    await set(fx.store, 'x', 'local');
    await fx.store.mergeRemote('kv', 'x', { value: 'remote', version: { B: 1 }, tombstone: false });
    await cond(fx.store, 'x', 'resolved', [{ A: 1 }, { B: 1 }]);
    await set(fx.store, 'y', 'y');
    await cond(fx.store, 'y', undefined, [{ A: 1 }]);
    const before = await dumpAll(fx.store, 'kv');
    const store = (fx.store = await fx.harness.reopen());
    assert.equal(await dumpAll(store, 'kv'), before);
    assert.equal(values(await store.read('kv', 'x')), ['resolved']);
    assert.equal(await store.read('kv', 'y'), []);
    assert.equal((await cond(store, 'x', 'next', [{ A: 2, B: 1 }])).sibling.version, { A: 3, B: 1 });
  });
}
