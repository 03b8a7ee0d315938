// The in-memory id index behind scans of small keygroups (replication/store/key-index.ts), and
// LevelReplicaStore's scans through it: the same answers as the LevelDB iterator gives, through
// writes, deletes, expiry, replicated writes, recreation, and past the index's size cap.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { KeyIndex, MAX_IDS_PER_KEYGROUP, lowerBound } from '../../../replication/store/key-index.js';
import { LevelReplicaStore } from '../../../replication/store/level-store.js';
import type { LiveItem } from '../../../replication/store/port.js';

const index = suite('KeyIndex');

index('lowerBound finds the first id not below the one asked for', () => {
  const ids = ['a', 'b1', 'b3', 'c'];
  assert.equal([lowerBound(ids, ''), lowerBound(ids, 'b'), lowerBound(ids, 'b3'), lowerBound(ids, 'b4'), lowerBound(ids, 'z')], [0, 1, 2, 3, 4]);
});

index('ids stay sorted and unique through adds and removes; other keygroups are untouched', () => {
  const k = new KeyIndex(10, 100);
  assert.ok(k.wanted('kg'));
  k.fill('kg', ['b', 'd']);
  assert.not.ok(k.wanted('kg'));
  for (const id of ['c', 'a', 'e', 'c']) k.add('kg', id);
  k.remove('kg', 'd');
  k.remove('kg', 'zz');
  k.add('other', 'x');
  assert.equal(k.get('kg'), ['a', 'b', 'c', 'e']);
  assert.is(k.get('other'), undefined);
});

index('a keygroup over its cap is not indexed, and one that grows past it is dropped', () => {
  const k = new KeyIndex(3, 100);
  k.fill('big', ['a', 'b', 'c', 'd']);
  assert.is(k.get('big'), undefined);
  assert.not.ok(k.wanted('big'));
  k.fill('grows', ['a', 'b', 'c']);
  k.add('grows', 'd');
  assert.is(k.get('grows'), undefined);
  assert.not.ok(k.wanted('grows'));
  // Deleted and created again, it may be indexed again.
  k.drop('grows');
  assert.ok(k.wanted('grows'));
});

index('all indexes together stay under the total cap', () => {
  const k = new KeyIndex(10, 5);
  k.fill('one', ['a', 'b', 'c']);
  k.fill('two', ['a', 'b', 'c']);
  assert.is(k.get('two'), undefined, 'would exceed the total');
  assert.ok(k.wanted('two'), 'not too large itself: later, when there is room');
  k.add('one', 'd');
  k.add('one', 'e');
  k.add('one', 'f');
  assert.is(k.get('one'), undefined, 'dropped at the total cap');
});

index.run();

const scans = suite<{ store: LevelReplicaStore; location: string; now: number }>('LevelReplicaStore scans from the id index');

scans.before.each(async (ctx) => {
  ctx.now = 1_000_000;
  ctx.location = await mkdtemp(join(tmpdir(), 'enoki-key-index-'));
  ctx.store = new LevelReplicaStore({ location: ctx.location, nodeId: 'A', clock: () => ctx.now });
  await ctx.store.open();
  await ctx.store.createKeygroup({ name: 'kg', mutable: true, expiry: 0 });
});
scans.after.each(async (ctx) => {
  await ctx.store.close();
  await rm(ctx.location, { recursive: true, force: true });
});

const summary = (items: LiveItem[]) => items.map((i) => `${i.id}=${i.siblings.map((s) => s.value).join('|')}`);
const set = (store: LevelReplicaStore, keygroup: string, id: string, value: string) => store.applyLocal([{ kind: 'set', keygroup, id, value }]);

/** Scans until the index is in place (it is built on the write chain after a first scan). */
async function indexed(store: LevelReplicaStore, keygroup: string): Promise<void> {
  await store.scan(keygroup, { start: '', count: 1 });
  await set(store, keygroup, 'zzzzbarrier', 'x');
  await store.applyLocal([{ kind: 'delete', keygroup, id: 'zzzzbarrier' }]);
  assert.ok(store.scanSync(keygroup, { start: '', count: 1 }) !== undefined, 'the keygroup is indexed');
}

scans('writes, overwrites and deletes after the index was built show in scans at once', async ({ store }) => {
  for (const id of ['b0', 'b1', 'b2']) await set(store, 'kg', id, `v-${id}`);
  await indexed(store, 'kg');
  await set(store, 'kg', 'a9', 'new-first');
  await set(store, 'kg', 'b1', 'rewritten');
  await store.applyLocal([{ kind: 'delete', keygroup: 'kg', id: 'b0' }]);
  await set(store, 'kg', 'c5', 'new-last');
  const expected = ['a9=new-first', 'b1=rewritten', 'b2=v-b2', 'c5=new-last'];
  assert.equal(summary(store.scanSync('kg', { start: '', count: 10 })!), expected);
  assert.equal(summary(await store.scan('kg', { start: '', count: 10 })), expected);
  assert.equal(summary(await store.scan('kg', { start: 'b', count: 2 })), ['b1=rewritten', 'b2=v-b2']);
});

scans('replicated writes and conditional writes reach the index', async ({ store }) => {
  await indexed(store, 'kg');
  await store.mergeRemote('kg', 'fromB', { value: 'remote', version: { B: 1 }, tombstone: false });
  await store.applyConditional({ kind: 'set', keygroup: 'kg', id: 'cas', value: 'swapped' }, [{}]);
  assert.equal(summary(store.scanSync('kg', { start: '', count: 10 })!), ['cas=swapped', 'fromB=remote']);
});

scans('expired items leave scans, and purging them leaves the index right', async (ctx) => {
  const { store } = ctx;
  await store.createKeygroup({ name: 'short', mutable: true, expiry: 10 });
  await set(store, 'short', 'old', 'o');
  await indexed(store, 'short');
  ctx.now += 11_000;
  await set(store, 'short', 'fresh', 'f');
  assert.equal(summary(store.scanSync('short', { start: '', count: 10 })!), ['fresh=f']);
  assert.ok((await store.purgeExpired()) >= 1);
  await set(store, 'short', 'old', 'again');
  assert.equal(summary(await store.scan('short', { start: '', count: 10 })), ['fresh=f', 'old=again']);
});

scans('a keygroup deleted and created again scans empty, then its new items', async ({ store }) => {
  await set(store, 'kg', 'x', '1');
  await indexed(store, 'kg');
  await store.deleteKeygroup('kg');
  await store.createKeygroup({ name: 'kg', mutable: true, expiry: 0 });
  assert.equal(await store.scan('kg', { start: '', count: 10 }), []);
  await set(store, 'kg', 'y', '2');
  assert.equal(summary(await store.scan('kg', { start: '', count: 10 })), ['y=2']);
});

scans('a keygroup larger than the index cap still scans right, through LevelDB', async ({ store }) => {
  const n = MAX_IDS_PER_KEYGROUP + 5;
  const ids = Array.from({ length: n }, (_, i) => `i${String(i).padStart(6, '0')}`);
  await store.applyLocal(ids.map((id) => ({ kind: 'set' as const, keygroup: 'kg', id, value: id })));
  await store.scan('kg', { start: '', count: 1 });
  await set(store, 'kg', 'zz', 'last');
  assert.is(store.scanSync('kg', { start: '', count: 1 }), undefined, 'not indexed');
  const tail = await store.scan('kg', { start: ids[n - 2]!, count: 5 });
  assert.equal(summary(tail), [`${ids[n - 2]}=${ids[n - 2]}`, `${ids[n - 1]}=${ids[n - 1]}`, 'zz=last']);
});

scans.run();
