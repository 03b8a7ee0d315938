// InvocationKv over a MemoryReplicaStore: what a guest sees through the kv interface during one
// invocation (its own writes before commit, typed errors instead of traps) and what the replica
// holds once the invocation commits.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { MemoryReplicaStore } from '../../../replication/store/memory-store.js';
import type { KeygroupInfo } from '../../../replication/store/port.js';
import { pickWinner } from '../../../replication/store/version.js';
import type { KvReply } from '../../../runtime/exec/protocol.js';
import { InvocationKv, type InvocationKvLimits } from '../../../runtime/kv/invocation-kv.js';
import { StoreKvBackend } from '../../../runtime/kv/kv-backend.js';

const MUTABLE: KeygroupInfo = { name: 'kv', mutable: true, expiry: 0 };
const IMMUTABLE: KeygroupInfo = { name: 'log', mutable: false, expiry: 0 };
const LIMITS: InvocationKvLimits = { maxValueBytes: 1024, maxWriteBytes: 64, maxScanCount: 100 };

async function freshStore(items: Record<string, string> = {}): Promise<MemoryReplicaStore> {
  const store = new MemoryReplicaStore({ nodeId: 'n1' });
  await store.open();
  await store.createKeygroup(MUTABLE);
  await store.createKeygroup(IMMUTABLE);
  const writes = Object.entries(items).map(([id, value]) => ({ kind: 'set' as const, keygroup: 'kv', id, value }));
  if (writes.length > 0) await store.applyLocal(writes);
  return store;
}

/** One guest call through the same entry point the worker bridge uses; returns the value or fails. */
async function ok(kv: InvocationKv, op: string, ...args: unknown[]): Promise<unknown> {
  const reply = await kv.handle({ op, args });
  if (!reply.ok) assert.unreachable(`${op} failed: ${reply.error.tag} ${reply.error.val}`);
  return (reply as { value: unknown }).value;
}

/** The error tag of a guest call that must fail (handle never throws). */
async function fails(kv: InvocationKv, op: string, ...args: unknown[]): Promise<string> {
  const reply: KvReply = await kv.handle({ op, args });
  if (reply.ok) assert.unreachable(`${op} succeeded with ${String(reply.value)}`);
  return (reply as { error: { tag: string } }).error.tag;
}

const storedValue = async (store: MemoryReplicaStore, id: string, keygroup = 'kv') =>
  (await store.read(keygroup, id))[0]?.value;

test('reads see the invocation’s own sets and deletes before commit', async () => {
  const store = await freshStore({ a: '1', b: '2', d: '4' });
  const kv = new InvocationKv(new StoreKvBackend(store), MUTABLE, LIMITS);
  await ok(kv, 'set', 'a', '10');
  await ok(kv, 'delete', 'b');
  await ok(kv, 'set', 'c', '3');

  assert.is(await ok(kv, 'get', 'a'), '10');
  assert.is(await ok(kv, 'get', 'b'), undefined);
  assert.is(await ok(kv, 'get', 'c'), '3');
  assert.equal(await ok(kv, 'getMany', ['a', 'b', 'c', 'd', 'zz']), ['10', undefined, '3', '4', undefined]);
  assert.equal(await ok(kv, 'read', 'a'), [{ id: 'a', value: '10', version: [] }]);
  assert.equal(await ok(kv, 'read', 'b'), []);
  assert.equal(await ok(kv, 'scan', '', 10), [
    { id: 'a', value: '10' },
    { id: 'c', value: '3' },
    { id: 'd', value: '4' },
  ]);
  assert.equal(await ok(kv, 'keys', '', 10), ['a', 'c', 'd']);
});

test('nothing reaches the replica before commit(), everything after', async () => {
  const store = await freshStore({ a: '1', b: '2' });
  const kv = new InvocationKv(new StoreKvBackend(store), MUTABLE, LIMITS);
  await ok(kv, 'set', 'a', '10');
  await ok(kv, 'delete', 'b');
  await ok(kv, 'setMany', [{ id: 'c', value: '3' }, { id: 'e', value: '5' }]);
  await ok(kv, 'set', 'tmp', 'x');
  await ok(kv, 'delete', 'tmp');

  assert.is(await storedValue(store, 'a'), '1');
  assert.is(await storedValue(store, 'b'), '2');
  assert.is(await storedValue(store, 'c'), undefined);
  assert.is(await storedValue(store, 'e'), undefined);

  await kv.commit();
  assert.is(await storedValue(store, 'a'), '10');
  assert.is(await storedValue(store, 'b'), undefined);
  assert.is(await storedValue(store, 'c'), '3');
  assert.is(await storedValue(store, 'e'), '5');
  assert.is(await storedValue(store, 'tmp'), undefined);
});

test('bad ids and values come back as typed errors, never as exceptions', async () => {
  const kv = new InvocationKv(new StoreKvBackend(await freshStore({ a: '1' })), MUTABLE, LIMITS);
  const reply = await kv.handle({ op: 'set', args: ['bad key!', 'x'] });
  assert.is(reply.ok, false);
  if (!reply.ok) {
    assert.is(reply.error.tag, 'invalid-key');
    assert.match(reply.error.val ?? '', 'bad key!');
  }
  assert.is(await fails(kv, 'get', ''), 'invalid-key');
  assert.is(await fails(kv, 'getMany', ['a', 'no/slash']), 'invalid-key');
  assert.is(await fails(kv, 'set', 'a', ''), 'invalid-value');
  assert.is(await fails(kv, 'set', 'a', 'x'.repeat(LIMITS.maxValueBytes + 1)), 'invalid-value');
  assert.is(await fails(kv, 'setMany', [{ id: 'b', value: 'ok' }, { id: 'c', value: '' }]), 'invalid-value');
  // A rejected batch leaves no trace, not even its valid entries.
  assert.is(await ok(kv, 'get', 'b'), undefined);
  assert.is(await ok(kv, 'get', 'a'), '1');
});

test('delete of a missing item is not-found, also once deleted in this invocation', async () => {
  const kv = new InvocationKv(new StoreKvBackend(await freshStore({ a: '1' })), MUTABLE, LIMITS);
  assert.is(await fails(kv, 'delete', 'nothere'), 'not-found');
  await ok(kv, 'delete', 'a');
  assert.is(await fails(kv, 'delete', 'a'), 'not-found');
});

test('scan: a start id that does not exist is not-found; an empty start begins at the first id', async () => {
  const store = await freshStore({ b: '2', c: '3' });
  const kv = new InvocationKv(new StoreKvBackend(store), MUTABLE, LIMITS);
  assert.is(await fails(kv, 'scan', 'a', 5), 'not-found');
  assert.is(await fails(kv, 'keys', 'bb', 5), 'not-found');
  assert.equal(await ok(kv, 'keys', '', 5), ['b', 'c']);
  assert.equal(await ok(kv, 'scan', 'c', 5), [{ id: 'c', value: '3' }]);
  // A start that exists only in this invocation's writes is fine; a deleted one is gone.
  await ok(kv, 'set', 'bb', 'x');
  await ok(kv, 'delete', 'c');
  assert.equal(await ok(kv, 'keys', 'bb', 5), ['bb']);
  assert.is(await fails(kv, 'scan', 'c', 5), 'not-found');
});

test('scan merges pending writes in id order and honours count when deletes hide stored items', async () => {
  const store = await freshStore({ b: '2', d: '4', f: '6', h: '8', j: '10' });
  const kv = new InvocationKv(new StoreKvBackend(store), MUTABLE, LIMITS);
  await ok(kv, 'set', 'e', '5');
  await ok(kv, 'set', 'a', '1');
  await ok(kv, 'set', 'd', '40');
  assert.equal(await ok(kv, 'scan', '', 4), [
    { id: 'a', value: '1' },
    { id: 'b', value: '2' },
    { id: 'd', value: '40' },
    { id: 'e', value: '5' },
  ]);

  await ok(kv, 'delete', 'a');
  await ok(kv, 'delete', 'b');
  await ok(kv, 'delete', 'd');
  assert.equal(await ok(kv, 'keys', '', 3), ['e', 'f', 'h']);
  assert.equal(await ok(kv, 'keys', 'f', 2), ['f', 'h']);
  assert.equal(await ok(kv, 'keys', '', 0), []);
  // Upper-case ids sort before lower-case ones (code-unit order, as the store promises).
  await ok(kv, 'set', 'Z', 'z');
  assert.equal(await ok(kv, 'keys', '', 2), ['Z', 'e']);
});

test('scan returns at most maxScanCount items whatever count the guest asks for', async () => {
  const items = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, String(i)]));
  const kv = new InvocationKv(new StoreKvBackend(await freshStore(items)), MUTABLE, { ...LIMITS, maxScanCount: 5 });
  assert.equal(await ok(kv, 'keys', '', 1000), ['k0', 'k1', 'k2', 'k3', 'k4']);
});

test('mutability: append needs an immutable keygroup, set and delete a mutable one', async () => {
  const store = await freshStore({ a: '1' });
  const mutable = new InvocationKv(new StoreKvBackend(store), MUTABLE, LIMITS);
  assert.is(await fails(mutable, 'append', 1n, 'x'), 'wrong-mutability');
  const immutable = new InvocationKv(new StoreKvBackend(store), IMMUTABLE, LIMITS);
  assert.is(await fails(immutable, 'set', '1', 'x'), 'wrong-mutability');
  assert.is(await fails(immutable, 'setMany', [{ id: '1', value: 'x' }]), 'wrong-mutability');
  assert.is(await fails(immutable, 'delete', '1'), 'wrong-mutability');
  assert.is(mutable.writeCount + immutable.writeCount, 0);
});

test('append returns the decimal id and refuses an id that is taken', async () => {
  const store = await freshStore();
  const first = new InvocationKv(new StoreKvBackend(store), IMMUTABLE, LIMITS);
  assert.is(await ok(first, 'append', 7n, 'seven'), '7');
  assert.is(await ok(first, 'append', 18446744073709551615n, 'max'), '18446744073709551615');
  assert.is(await fails(first, 'append', 7n, 'again'), 'already-exists');
  assert.is(await ok(first, 'get', '7'), 'seven');
  await first.commit();
  assert.is(await storedValue(store, '7', 'log'), 'seven');

  const second = new InvocationKv(new StoreKvBackend(store), IMMUTABLE, LIMITS);
  assert.is(await fails(second, 'append', 7n, 'later'), 'already-exists');
  assert.is(await storedValue(store, '7', 'log'), 'seven');
});

test('writing more than maxWriteBytes in one invocation is too-large and the write is dropped', async () => {
  const store = await freshStore({ a: 'old' });
  const kv = new InvocationKv(new StoreKvBackend(store), MUTABLE, LIMITS);
  await ok(kv, 'set', 'a', 'x'.repeat(40));
  assert.is(await fails(kv, 'set', 'b', 'y'.repeat(40)), 'too-large');
  assert.is(await ok(kv, 'get', 'b'), undefined);
  // Multi-byte characters count as their UTF-8 bytes: 10 × 3 bytes is past the 24 left.
  assert.is(await fails(kv, 'set', 'c', '€'.repeat(10)), 'too-large');
  // Refused writes do not use up the budget: the 24 bytes left are still there.
  await ok(kv, 'set', 'd', 'z'.repeat(24));
  // A setMany past the budget is refused whole.
  assert.is(await fails(kv, 'setMany', [{ id: 'e', value: 'e' }]), 'too-large');
  assert.is(await ok(kv, 'get', 'e'), undefined);
  await kv.commit();
  assert.is(await storedValue(store, 'd'), 'z'.repeat(24));
  assert.is(await storedValue(store, 'e'), undefined);
  assert.is(await storedValue(store, 'a'), 'x'.repeat(40));
  assert.is(await storedValue(store, 'b'), undefined);
  assert.is(await storedValue(store, 'c'), undefined);
});

test('read returns every sibling with bigint versions; get returns the replicas’ common winner', async () => {
  const store = await freshStore();
  const writer = new InvocationKv(new StoreKvBackend(store), MUTABLE, LIMITS);
  await ok(writer, 'set', 'a', 'local');
  await writer.commit();

  const reader = new InvocationKv(new StoreKvBackend(store), MUTABLE, LIMITS);
  assert.equal(await ok(reader, 'read', 'a'), [{ id: 'a', value: 'local', version: [['n1', 1n]] }]);

  // A concurrent write from another node arrives by replication: the item now has two siblings.
  assert.ok(await store.mergeRemote('kv', 'a', { value: 'remote', version: { n2: 1 }, tombstone: false }));
  const after = new InvocationKv(new StoreKvBackend(store), MUTABLE, LIMITS);
  const siblings = (await ok(after, 'read', 'a')) as { value: string; version: [string, bigint][] }[];
  assert.is(siblings.length, 2);
  assert.equal(siblings.map((s) => s.value).sort(), ['local', 'remote']);
  for (const s of siblings) for (const [, n] of s.version) assert.is(typeof n, 'bigint');
  const winner = pickWinner(await store.read('kv', 'a'))!;
  assert.is(winner.value, 'remote'); // equal ticks: the greater version text 'n2:1' wins
  assert.is(await ok(after, 'get', 'a'), winner.value);
  assert.equal(await ok(after, 'scan', '', 1), [{ id: 'a', value: winner.value }]);
  assert.is(siblings[0].value, winner.value);
});

test('an unknown operation is unavailable', async () => {
  const kv = new InvocationKv(new StoreKvBackend(await freshStore()), MUTABLE, LIMITS);
  assert.is(await fails(kv, 'frobnicate', 'a'), 'unavailable');
});

test.run();
