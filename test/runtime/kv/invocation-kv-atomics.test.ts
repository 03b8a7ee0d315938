// The `atomics` interface as a guest sees it through InvocationKv on the node's own replica, over
// both store implementations: increment and compare-and-swap are applied at once and handed to
// replication at once, are atomic against every other writer of the replica, and work on the
// invocation's own uncommitted writes.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { LevelReplicaStore } from '../../../replication/store/level-store.js';
import { MemoryReplicaStore } from '../../../replication/store/memory-store.js';
import type { AppliedWrite, KeygroupInfo, ReplicaStore, Sibling } from '../../../replication/store/port.js';
import { InvocationKv, type InvocationKvLimits } from '../../../runtime/kv/invocation-kv.js';
import { StoreKvBackend } from '../../../runtime/kv/kv-backend.js';

const MUTABLE: KeygroupInfo = { name: 'kv', mutable: true, expiry: 0 };
const IMMUTABLE: KeygroupInfo = { name: 'log', mutable: false, expiry: 0 };
const LIMITS: InvocationKvLimits = { maxValueBytes: 1024, maxWriteBytes: 4096, maxScanCount: 100 };
const MAX_S64 = 2n ** 63n - 1n;
const MIN_S64 = -(2n ** 63n);

type WitVersion = [string, bigint][];

interface Ctx {
  store: ReplicaStore;
  /** Writes handed to the replication hook, in order. */
  replicated: AppliedWrite[];
  /** A fresh invocation's key-value view of the keygroup `kv`. */
  invocation(info?: KeygroupInfo): InvocationKv;
  close(): Promise<void>;
}

/** Runs a store call after the next read of the store: another writer landing in between. */
let afterNextRead: (() => Promise<unknown>) | undefined;
async function interleave(read: Promise<Sibling[]>): Promise<Sibling[]> {
  const siblings = await read;
  const write = afterNextRead;
  afterNextRead = undefined;
  await write?.();
  return siblings;
}
class InterleavedMemoryStore extends MemoryReplicaStore {
  override read(keygroup: string, id: string): Promise<Sibling[]> {
    return interleave(super.read(keygroup, id));
  }
}
class InterleavedLevelStore extends LevelReplicaStore {
  override read(keygroup: string, id: string): Promise<Sibling[]> {
    return interleave(super.read(keygroup, id));
  }
}

const stores: Record<string, () => Promise<{ store: ReplicaStore; cleanup(): Promise<void> }>> = {
  memory: async () => ({ store: new InterleavedMemoryStore({ nodeId: 'n1' }), cleanup: async () => undefined }),
  level: async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-atomics-'));
    return {
      store: new InterleavedLevelStore({ nodeId: 'n1', location: dir }),
      cleanup: () => fs.rm(dir, { recursive: true, force: true }),
    };
  },
};

async function open(kind: string, items: Record<string, string> = {}): Promise<Ctx> {
  const { store, cleanup } = await stores[kind]!();
  await store.open();
  await store.createKeygroup(MUTABLE);
  await store.createKeygroup(IMMUTABLE);
  for (const [id, value] of Object.entries(items)) await store.applyLocal([{ kind: 'set', keygroup: 'kv', id, value }]);
  const replicated: AppliedWrite[] = [];
  const backend = new StoreKvBackend(store);
  return {
    store,
    replicated,
    invocation: (info = MUTABLE) => new InvocationKv(backend, info, LIMITS, async (applied) => void replicated.push(...applied)),
    close: async () => {
      await store.close();
      await cleanup();
    },
  };
}

async function ok(kv: InvocationKv, op: string, ...args: unknown[]): Promise<unknown> {
  const reply = await kv.handle({ op, args });
  if (!reply.ok) assert.unreachable(`${op} failed: ${reply.error.tag} ${reply.error.val}`);
  return (reply as { value: unknown }).value;
}

async function fails(kv: InvocationKv, op: string, ...args: unknown[]): Promise<{ tag: string; val?: string }> {
  const reply = await kv.handle({ op, args });
  if (reply.ok) assert.unreachable(`${op} succeeded with ${String(reply.value)}`);
  return (reply as { error: { tag: string; val?: string } }).error;
}

const stored = async (ctx: Ctx, id: string) => (await ctx.store.read('kv', id)).map((s) => s.value);
const versionsOf = async (kv: InvocationKv, id: string) => ((await ok(kv, 'read', id)) as { version: WitVersion }[]).map((i) => i.version);

for (const kind of Object.keys(stores)) {
  const test = suite<{ ctx: Ctx }>(`kv atomics (${kind} store)`);
  test.after.each(async ({ ctx }) => {
    afterNextRead = undefined;
    await ctx?.close();
  });

  test('increment counts from 0 for an absent item and is stored at once, before and without a commit', async (t) => {
    const ctx = (t.ctx = await open(kind));
    const kv = ctx.invocation();
    assert.is(await ok(kv, 'increment', 'n', 1n), 1n);
    assert.is(await ok(kv, 'increment', 'n', 41n), 42n);
    assert.is(await ok(kv, 'increment', 'n', -50n), -8n);
    assert.equal(await stored(ctx, 'n'), ['-8']);
    assert.is(kv.writeCount, 0, 'nothing left for the commit');
    // Each one went to replication as it was applied, with the version the replica stored.
    assert.equal(ctx.replicated.map((w) => [w.id, w.sibling.value, w.sibling.version]), [
      ['n', '1', { n1: 1 }],
      ['n', '42', { n1: 2 }],
      ['n', '-8', { n1: 3 }],
    ]);
  });

  test('increment refuses a value that is not a decimal s64, and an overflow, writing nothing', async (t) => {
    const bad = ['abc', '1.5', ' 1', '1e3', '0x10', '+1', '--1', '9223372036854775808', '-9223372036854775809', '1'.repeat(5000)];
    const items = Object.fromEntries(bad.map((v, i) => [`bad${i}`, v]));
    const ctx = (t.ctx = await open(kind, { ...items, max: MAX_S64.toString(), min: MIN_S64.toString(), padded: '007' }));
    const kv = ctx.invocation();
    for (const [id, value] of Object.entries(items)) {
      const error = await fails(kv, 'increment', id, 1n);
      assert.is(error.tag, 'invalid-value', `${value} is not a counter`);
      assert.equal(await stored(ctx, id), [value]);
    }
    const overflow = await fails(kv, 'increment', 'max', 1n);
    assert.is(overflow.tag, 'invalid-value');
    assert.match(String(overflow.val), /overflow/);
    assert.is((await fails(kv, 'increment', 'min', -1n)).tag, 'invalid-value');
    assert.equal(await stored(ctx, 'max'), [MAX_S64.toString()]);
    // The whole range is usable, and leading zeros read as the number they spell.
    assert.is(await ok(kv, 'increment', 'max', -1n), MAX_S64 - 1n);
    assert.is(await ok(kv, 'increment', 'min', MAX_S64), -1n);
    assert.is(await ok(kv, 'increment', 'absent', MIN_S64), MIN_S64);
    assert.is(await ok(kv, 'increment', 'padded', 1n), 8n);
    assert.equal(ctx.replicated.map((w) => w.id), ['max', 'min', 'absent', 'padded'], 'refused calls replicate nothing');
  });

  test('compare-and-swap succeeds on the version a read returned, once; a stale version or a taken id is false', async (t) => {
    const ctx = (t.ctx = await open(kind, { k: 'a' }));
    const kv = ctx.invocation();
    const seen = await versionsOf(kv, 'k');
    assert.is(await ok(kv, 'compareAndSwap', 'k', seen, 'b'), true);
    assert.is(await ok(kv, 'compareAndSwap', 'k', seen, 'c'), false, 'the first swap superseded that version');
    assert.is(await ok(kv, 'compareAndSwap', 'k', [], 'c'), false, 'empty expected: only if absent');
    assert.equal(await stored(ctx, 'k'), ['b']);
    assert.is(await ok(kv, 'compareAndSwap', 'k', await versionsOf(kv, 'k'), 'c'), true);
    assert.is(await ok(kv, 'compareAndSwap', 'new', [], 'first'), true);
    assert.is(await ok(kv, 'compareAndSwap', 'new', [], 'second'), false);
    assert.equal([await stored(ctx, 'k'), await stored(ctx, 'new')], [['c'], ['first']]);
    assert.equal(ctx.replicated.map((w) => w.sibling.value), ['b', 'c', 'first']);
  });

  test('a write landing between the read and the write of an increment is not lost: the increment retries', async (t) => {
    const ctx = (t.ctx = await open(kind, { n: '10' }));
    const kv = ctx.invocation();
    // As a FReD client's Update through the client API would, on the same replica.
    afterNextRead = () => ctx.store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'n', value: '100' }]);
    assert.is(await ok(kv, 'increment', 'n', 1n), 101n);
    assert.equal(await stored(ctx, 'n'), ['101']);
    // The same race on a create: another writer creates the item first.
    afterNextRead = () => ctx.store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'm', value: '5' }]);
    assert.is(await ok(kv, 'increment', 'm', 1n), 6n);
  });

  test('concurrent increments from many invocations lose nothing and each returns a distinct value', async (t) => {
    const ctx = (t.ctx = await open(kind));
    const clients = 4;
    const perClient = 50;
    const returned = (
      await Promise.all(
        Array.from({ length: clients }, async () => {
          const values: bigint[] = [];
          for (let i = 0; i < perClient; i++) values.push((await ok(ctx.invocation(), 'increment', 'n', 1n)) as bigint);
          return values;
        }),
      )
    ).flat();
    assert.equal(await stored(ctx, 'n'), [String(clients * perClient)]);
    assert.is(new Set(returned).size, clients * perClient);
    assert.equal([...returned].sort((a, b) => Number(a - b)), Array.from({ length: clients * perClient }, (_, i) => BigInt(i + 1)));
  });

  test('a deleted item is re-created by increment and by compare-and-swap with an empty expected', async (t) => {
    const ctx = (t.ctx = await open(kind, { n: '7', k: 'x' }));
    await ctx.store.applyLocal([
      { kind: 'delete', keygroup: 'kv', id: 'n' },
      { kind: 'delete', keygroup: 'kv', id: 'k' },
    ]);
    const kv = ctx.invocation();
    assert.is(await ok(kv, 'increment', 'n', 1n), 1n);
    assert.is(await ok(kv, 'compareAndSwap', 'k', [], 'again'), true);
    assert.is(await ok(kv, 'compareAndSwap', 'k', [], 'twice'), false);
    assert.equal([await stored(ctx, 'n'), await stored(ctx, 'k')], [['1'], ['again']]);
    // The new versions supersede the deletions, so replicas that hold the tombstone take them.
    const tombstone = { n1: 2 };
    for (const w of ctx.replicated) assert.is(w.sibling.version.n1! > tombstone.n1, true, JSON.stringify(w.sibling.version));
  });

  test('with siblings, increment adds to the value get returns and supersedes them all; a swap must cover every one', async (t) => {
    const ctx = (t.ctx = await open(kind));
    // Two replicas incremented concurrently: both wrote 5 from 4, or here 5 and 9.
    await ctx.store.mergeRemote('kv', 'n', { value: '5', version: { a: 1 }, tombstone: false });
    await ctx.store.mergeRemote('kv', 'n', { value: '9', version: { b: 1 }, tombstone: false });
    const kv = ctx.invocation();
    const winner = (await ok(kv, 'get', 'n')) as string;
    const [first, second] = await versionsOf(kv, 'n');
    assert.is(await ok(kv, 'compareAndSwap', 'n', [first], 'x'), false, 'the other sibling is not covered');
    assert.is(await ok(kv, 'increment', 'n', 1n), BigInt(winner) + 1n);
    assert.equal(await stored(ctx, 'n'), [String(Number(winner) + 1)]);
    assert.equal(ctx.replicated[0]!.sibling.version, { a: 1, b: 1, n1: 1 });
    assert.is(await ok(kv, 'compareAndSwap', 'n', [first, second], 'x'), false, 'the increment superseded both');
  });

  test('on an id the invocation wrote, the atomic op works on that value, applies it at once, and the commit keeps it', async (t) => {
    const ctx = (t.ctx = await open(kind, { n: '100', gone: '1', k: 'stored' }));
    const kv = ctx.invocation();
    await ok(kv, 'set', 'n', '5');
    await ok(kv, 'set', 'other', 'o');
    assert.is(await ok(kv, 'increment', 'n', 2n), 7n);
    assert.equal(await stored(ctx, 'n'), ['7'], 'applied at once, over the pending 5, not the stored 100');
    assert.is(await ok(kv, 'get', 'n'), '7');
    await ok(kv, 'delete', 'gone');
    assert.is(await ok(kv, 'increment', 'gone', 3n), 3n, 'a pending delete counts as absent');
    await ok(kv, 'set', 'k', 'mine');
    assert.is(await ok(kv, 'compareAndSwap', 'k', [], 'x'), false, 'the pending write exists');
    // read shows a pending write with the empty version; that is what a guest swaps on.
    assert.equal(await versionsOf(kv, 'k'), [[]]);
    assert.is(await ok(kv, 'compareAndSwap', 'k', await versionsOf(kv, 'k'), 'swapped'), true);
    assert.equal(await stored(ctx, 'k'), ['swapped']);

    assert.is(kv.writeCount, 1, 'only the write to `other` is left for the commit');
    await kv.commit();
    assert.equal([await stored(ctx, 'n'), await stored(ctx, 'gone'), await stored(ctx, 'k'), await stored(ctx, 'other')], [['7'], ['3'], ['swapped'], ['o']]);
  });

  test('atomic writes stay when the invocation fails afterwards; its plain writes do not', async (t) => {
    const ctx = (t.ctx = await open(kind));
    const kv = ctx.invocation();
    await ok(kv, 'set', 'plain', 'p');
    await ok(kv, 'increment', 'n', 1n);
    await ok(kv, 'compareAndSwap', 'c', [], 'v');
    // The invocation traps here: the invoker never calls commit().
    assert.equal([await stored(ctx, 'plain'), await stored(ctx, 'n'), await stored(ctx, 'c')], [[], ['1'], ['v']]);
  });

  test('bad arguments are typed kv-errors and write nothing', async (t) => {
    const ctx = (t.ctx = await open(kind, { k: 'v' }));
    const kv = ctx.invocation();
    assert.is((await fails(kv, 'increment', 'bad id', 1n)).tag, 'invalid-key');
    assert.is((await fails(kv, 'compareAndSwap', 'bad-id', [], 'v')).tag, 'invalid-key');
    assert.is((await fails(kv, 'compareAndSwap', 'k', [], '')).tag, 'invalid-value');
    assert.is((await fails(kv, 'compareAndSwap', 'k', [], 'x'.repeat(LIMITS.maxValueBytes + 1))).tag, 'invalid-value');
    assert.is((await fails(kv, 'compareAndSwap', 'k', [[['n:1', 1n]]], 'v')).tag, 'invalid-value');
    assert.is((await fails(kv, 'compareAndSwap', 'k', [[['n1', 2n ** 53n]]], 'v')).tag, 'invalid-value');
    const twice = await fails(kv, 'compareAndSwap', 'k', [[['n1', 1n], ['n1', 2n]]], 'v');
    assert.is(twice.tag, 'invalid-value');
    assert.match(String(twice.val), /"n1" more than once/);
    const log = ctx.invocation(IMMUTABLE);
    assert.is((await fails(log, 'increment', '1', 1n)).tag, 'wrong-mutability');
    assert.is((await fails(log, 'compareAndSwap', '1', [], 'v')).tag, 'wrong-mutability');
    assert.equal(await stored(ctx, 'k'), ['v']);
    assert.equal(ctx.replicated, []);
  });

  test.run();
}

const expiry = suite('kv atomics: expired items');

expiry('an item expired on this replica counts as absent until a newer version is hidden; then the call says why', async () => {
  let now = 1_000_000;
  const store = new MemoryReplicaStore({ nodeId: 'n1', clock: () => now });
  await store.open();
  const info: KeygroupInfo = { name: 'kv', mutable: true, expiry: 10 };
  await store.createKeygroup(info);
  const kv = () => new InvocationKv(new StoreKvBackend(store), info, LIMITS);
  // Written by a peer (its version has no tick of this node): a new write here is concurrent
  // with it, so the expired sibling does not stand in the way.
  await store.mergeRemote('kv', 'peer', { value: '5', version: { n2: 1 }, tombstone: false });
  assert.is(await ok(kv(), 'increment', 'mine', 1n), 1n);
  now += 11_000;
  assert.equal(await ok(kv(), 'get', 'peer'), undefined);
  assert.is(await ok(kv(), 'increment', 'peer', 1n), 1n, 'the expired 5 is not counted');
  // Written here: its expired version is newer than any first write of this node, and the store
  // shows it to nobody, so no condition can supersede it until it is purged.
  const error = await fails(kv(), 'increment', 'mine', 1n);
  assert.is(error.tag, 'unavailable');
  assert.match(String(error.val), /cannot be created now.*expired/);
  assert.is(await store.purgeExpired() > 0, true);
  assert.is(await ok(kv(), 'increment', 'mine', 1n), 1n, 'after the purge it counts from 0 again');
});

expiry.run();
