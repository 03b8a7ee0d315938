// InvocationKv over RemoteKvBackend, with the replica node played by an in-memory store: the
// invocation's writes stay on this side until commit, then reach the node one by one in order;
// a node that is down is an `unavailable` kv-error, and a commit cut short says what was applied.
// Atomic operations are conditional updates on the node, retried when another write got in.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { MemoryReplicaStore } from '../../../replication/store/memory-store.js';
import { StoreError, type KeygroupInfo, type Version } from '../../../replication/store/port.js';
import { InvocationKv, KvFault } from '../../../runtime/kv/invocation-kv.js';
import type { KvSibling } from '../../../runtime/kv/kv-backend.js';
import { RemoteKvBackend, type RemoteReplica } from '../../../runtime/kv/remote-kv-backend.js';

const KG: KeygroupInfo = { name: 'kv', mutable: true, expiry: 0 };
const LIMITS = { maxValueBytes: 1024, maxWriteBytes: 1024, maxScanCount: 100 };

/** The replica node: its store, a log of the calls it received, and a switch to take it down. */
class FakeNode implements RemoteReplica {
  readonly node = 'cloud';
  readonly calls: string[] = [];
  down = false;
  /** Fail the n-th write call (1-based) from now on. */
  failWriteAt = 0;
  #writes = 0;

  constructor(readonly store: MemoryReplicaStore) {}

  #enter(call: string, write = false): void {
    if (write && ++this.#writes === this.failWriteAt) this.down = true;
    if (this.down) throw new KvFault('unavailable', `${call} on node cloud failed: UNAVAILABLE: connection refused`);
    this.calls.push(call);
  }

  async read(keygroup: string, id: string): Promise<KvSibling[]> {
    this.#enter(`read ${id}`);
    return this.store.read(keygroup, id);
  }

  async scan(keygroup: string, start: string, count: number) {
    this.#enter(`scan ${start}`);
    // As FReD's Scan: the start must exist.
    if ((await this.store.read(keygroup, start)).length === 0) throw new KvFault('not-found', `scan start "${start}" does not exist on node cloud`);
    return this.store.scan(keygroup, { start, count });
  }

  async update(keygroup: string, id: string, value: string): Promise<void> {
    this.#enter(`update ${id}`, true);
    await this.store.applyLocal([{ kind: 'set', keygroup, id, value }]);
  }

  async delete(keygroup: string, id: string): Promise<void> {
    this.#enter(`delete ${id}`, true);
    if ((await this.store.read(keygroup, id)).length > 0) await this.store.applyLocal([{ kind: 'delete', keygroup, id }]);
  }

  async append(keygroup: string, id: string, value: string): Promise<void> {
    this.#enter(`append ${id}`, true);
    await this.store.applyLocal([{ kind: 'append', keygroup, id, value }]);
  }

  /** Runs once before the next conditional update is checked: another client's write. */
  beforeUpdateIf?: () => Promise<void>;

  /** As the node's client API: the store checks and applies in one step; a conflict is a refusal. */
  async updateIf(keygroup: string, id: string, value: string, versions: Version[]): Promise<boolean> {
    this.#enter(`updateIf ${id}`, true);
    const interloper = this.beforeUpdateIf;
    this.beforeUpdateIf = undefined;
    await interloper?.();
    try {
      await this.store.applyConditional({ kind: 'set', keygroup, id, value }, versions);
      return true;
    } catch (err) {
      if (err instanceof StoreError && err.code === 'ERR_VERSION_CONFLICT') return false;
      throw err;
    }
  }
}

async function fakeNode(items: Record<string, string> = {}): Promise<FakeNode> {
  const store = new MemoryReplicaStore({ nodeId: 'cloud' });
  await store.open();
  await store.createKeygroup(KG);
  for (const [id, value] of Object.entries(items)) await store.applyLocal([{ kind: 'set', keygroup: 'kv', id, value }]);
  return new FakeNode(store);
}

const value = async (node: FakeNode, id: string) => (await node.store.read('kv', id))[0]?.value;

async function call(kv: InvocationKv, op: string, ...args: unknown[]) {
  const reply = await kv.handle({ op, args });
  return reply.ok ? { ok: (reply as { value: unknown }).value } : { error: reply.error.tag, message: reply.error.val };
}

test('reads see the node’s data and the invocation’s own writes; writes reach the node only on commit, in order', async () => {
  const node = await fakeNode({ a: '1', b: '2', c: '3' });
  const kv = new InvocationKv(new RemoteKvBackend(node), KG, LIMITS);
  assert.equal(await call(kv, 'get', 'a'), { ok: '1' });
  await call(kv, 'set', 'a', '10');
  await call(kv, 'delete', 'b');
  await call(kv, 'set', 'd', '4');
  assert.equal(await call(kv, 'getMany', ['a', 'b', 'c', 'd']), { ok: ['10', undefined, '3', '4'] });
  assert.equal(await call(kv, 'scan', 'a', 10), { ok: [{ id: 'a', value: '10' }, { id: 'c', value: '3' }, { id: 'd', value: '4' }] });
  // Nothing written yet.
  assert.is(await value(node, 'a'), '1');
  assert.is(await value(node, 'b'), '2');
  assert.ok(node.calls.every((c) => c.startsWith('read') || c.startsWith('scan')));

  // The node replicates what it applied: nothing is left for this node to send.
  assert.equal(await kv.commit(), []);
  assert.equal(node.calls.filter((c) => !c.startsWith('read') && !c.startsWith('scan')), ['update a', 'delete b', 'update d']);
  assert.equal([await value(node, 'a'), await value(node, 'b'), await value(node, 'd')], ['10', undefined, '4']);
});

test('a node that is down is an unavailable kv-error for the guest, not a failure of the call', async () => {
  const node = await fakeNode({ a: '1' });
  node.down = true;
  const kv = new InvocationKv(new RemoteKvBackend(node), KG, LIMITS);
  const reply = await call(kv, 'get', 'a');
  assert.is(reply.error, 'unavailable');
  assert.match(String(reply.message), /node cloud/);
  assert.is((await call(kv, 'delete', 'a')).error, 'unavailable');
});

test('a commit cut short says which write failed and how many were applied (no atomicity across items)', async () => {
  const node = await fakeNode();
  const kv = new InvocationKv(new RemoteKvBackend(node), KG, LIMITS);
  await call(kv, 'set', 'x', '1');
  await call(kv, 'set', 'y', '2');
  await call(kv, 'set', 'z', '3');
  node.failWriteAt = 2;
  try {
    await kv.commit();
    assert.unreachable('the commit should have failed');
  } catch (err) {
    assert.match((err as Error).message, /write 2 of 3 \(set y\) failed on node cloud, the first 1 applied/);
  }
  assert.equal([await value(node, 'x'), await value(node, 'y'), await value(node, 'z')], ['1', undefined, undefined]);
});

test('a scan is one call to the node; from an id only the invocation wrote it shows the invocation’s items', async () => {
  const node = await fakeNode({ b: '2', c: '3' });
  const kv = new InvocationKv(new RemoteKvBackend(node), KG, LIMITS);
  assert.equal(await call(kv, 'scan', 'b', 10), { ok: [{ id: 'b', value: '2' }, { id: 'c', value: '3' }] });
  assert.equal(node.calls, ['scan b']);
  assert.is((await call(kv, 'scan', 'a', 10)).error, 'not-found');
  await call(kv, 'set', 'a', '1');
  assert.equal(await call(kv, 'scan', 'a', 10), { ok: [{ id: 'a', value: '1' }] });
});

test('a scan from the first item is refused with a reason: FReD scans start at an existing id', async () => {
  const node = await fakeNode({ a: '1' });
  const kv = new InvocationKv(new RemoteKvBackend(node), KG, LIMITS);
  const reply = await call(kv, 'scan', '', 10);
  assert.is(reply.error, 'unavailable');
  assert.match(String(reply.message), /cannot scan from the first item/);
  assert.equal(await call(kv, 'keys', 'a', 10), { ok: ['a'] });
});

test('increment is a read and a conditional update on the node, applied at once, not at commit', async () => {
  const node = await fakeNode();
  const kv = new InvocationKv(new RemoteKvBackend(node), KG, LIMITS);
  assert.equal(await call(kv, 'increment', 'n', 5n), { ok: 5n });
  assert.equal(await call(kv, 'increment', 'n', -2n), { ok: 3n });
  assert.is(await value(node, 'n'), '3', 'on the node before any commit');
  assert.equal(node.calls, ['read n', 'updateIf n', 'read n', 'updateIf n']);
  assert.equal(await kv.commit(), [], 'nothing left to commit, and the node replicates it');
});

test('an update landing on the node between the read and the conditional update is not lost: increment retries', async () => {
  const node = await fakeNode({ n: '10' });
  const kv = new InvocationKv(new RemoteKvBackend(node), KG, LIMITS);
  node.beforeUpdateIf = () => node.store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'n', value: '100' }]).then(() => undefined);
  assert.equal(await call(kv, 'increment', 'n', 1n), { ok: 101n });
  assert.is(await value(node, 'n'), '101');
  assert.equal(node.calls, ['read n', 'updateIf n', 'read n', 'updateIf n']);
});

test('compare-and-swap on the node: the version read succeeds once, a stale one is refused, an empty one only creates', async () => {
  const node = await fakeNode({ k: 'a' });
  const kv = new InvocationKv(new RemoteKvBackend(node), KG, LIMITS);
  const [read] = (await call(kv, 'read', 'k')).ok as { version: [string, bigint][] }[];
  assert.equal(await call(kv, 'compareAndSwap', 'k', [read!.version], 'b'), { ok: true });
  assert.equal(await call(kv, 'compareAndSwap', 'k', [read!.version], 'c'), { ok: false });
  assert.equal(await call(kv, 'compareAndSwap', 'k', [], 'c'), { ok: false });
  assert.is(await value(node, 'k'), 'b');
  assert.equal(await call(kv, 'compareAndSwap', 'fresh', [], 'new'), { ok: true });
  assert.is(await value(node, 'fresh'), 'new');
});

test('a deleted item cannot be re-created conditionally through the client API: the guest is told to set it', async () => {
  const node = await fakeNode({ n: '7' });
  await node.store.applyLocal([{ kind: 'delete', keygroup: 'kv', id: 'n' }]);
  const kv = new InvocationKv(new RemoteKvBackend(node), KG, LIMITS);
  const reply = await call(kv, 'increment', 'n', 1n);
  assert.is(reply.error, 'unavailable');
  assert.match(String(reply.message), /"n" was deleted on node cloud.*set.* it first/);
  assert.is(await value(node, 'n'), undefined);
  // After a set (committed), increments work again.
  await call(kv, 'set', 'n', '0');
  await kv.commit();
  const next = new InvocationKv(new RemoteKvBackend(node), KG, LIMITS);
  assert.equal(await call(next, 'increment', 'n', 1n), { ok: 1n });
});

test('atomic operations on a node that is down are unavailable kv-errors', async () => {
  const node = await fakeNode({ n: '1' });
  node.down = true;
  const kv = new InvocationKv(new RemoteKvBackend(node), KG, LIMITS);
  assert.is((await call(kv, 'increment', 'n', 1n)).error, 'unavailable');
  assert.is((await call(kv, 'compareAndSwap', 'n', [], 'x')).error, 'unavailable');
});

test.run();
