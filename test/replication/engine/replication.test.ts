// Replication of local writes between healthy replicas: siblings, deletes, appends, sync vs async.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { Cluster, v } from './cluster.js';

const values = (siblings: { value: string }[]) => siblings.map((s) => s.value);

test('concurrent writes on different nodes leave identical sibling sets everywhere', async () => {
  const c = await Cluster.start(['A', 'B', 'C', 'D'], { faults: { latency: { min: 1, max: 20 } } });
  await c.createKeygroup('kv', ['A', 'B', 'C', 'D']);
  // Same id written on every node before any write arrives anywhere: four concurrent versions.
  const writes = await Promise.all(['A', 'B', 'C', 'D'].map((n) => c.set(n, 'x', `from${n}`)));
  for (let i = 0; i < 20; i++) await c.set(['A', 'B', 'C', 'D'][i % 4]!, `k${i}`, v(i));
  await c.run(200);
  for (const w of writes) assert.equal((await w.result).pending, []);
  const copy = await c.assertConverged();
  assert.ok(copy.includes('x=v[A:1]fromA|v[B:1]fromB|v[C:1]fromC|v[D:1]fromD'), copy);
  assert.equal(values(await c.node('C').store.read('kv', 'x')), ['fromD', 'fromC', 'fromB', 'fromA']);
  await c.assertNothingLost();
  // A write that saw all siblings supersedes them on every replica.
  await c.set('B', 'x', 'resolved');
  await c.run(100);
  for (const n of ['A', 'B', 'C', 'D']) {
    assert.equal(
      (await c.node(n).store.read('kv', 'x')).map((s) => [s.value, s.version]),
      [['resolved', { A: 1, B: 2, C: 1, D: 1 }]],
    );
  }
  await c.stop();
});

test('deletes replicate and win over older writes; a concurrent write survives beside the tombstone', async () => {
  const c = await Cluster.start(['A', 'B', 'C']);
  await c.createKeygroup('kv', ['A', 'B', 'C']);
  await c.set('A', 'x', 'one');
  await c.run(10);
  await c.del('B', 'x');
  await c.run(10);
  for (const n of ['A', 'B', 'C']) assert.equal(await c.node(n).store.read('kv', 'x'), [], n);
  // A stale write arriving after the delete (same version as the original) changes nothing.
  assert.is(await c.node('C').store.mergeRemote('kv', 'x', { value: 'one', version: { A: 1 }, tombstone: false }), false);

  // Concurrent: C overwrites while A deletes, neither having seen the other.
  await c.set('A', 'y', 'base');
  await c.run(10);
  c.network.partition('A', 'C');
  await c.del('A', 'y');
  await c.set('C', 'y', 'kept');
  await c.run(10);
  c.network.heal();
  await c.run(5_000); // outbox retries after the partition
  const copy = await c.assertConverged();
  assert.ok(copy.includes('y=v[A:1,C:1]kept|x[A:2]'), copy);
  assert.equal(values(await c.node('B').store.read('kv', 'y')), ['kept']);
  await c.assertNothingLost();
  await c.stop();
});

test('appends to an immutable keygroup replicate as AppendItem and are never overwritten', async () => {
  const c = await Cluster.start(['A', 'B', 'C']);
  await c.createKeygroup('log', ['A', 'B', 'C'], { mutable: false });
  await c.apply('A', [{ kind: 'append', keygroup: 'log', id: '1', value: 'first' }]);
  await c.apply('B', [{ kind: 'append', keygroup: 'log', id: '2', value: 'second' }]);
  await c.run(10);
  const copy = await c.assertConverged('log');
  assert.is(copy, '1=v[]first\n2=v[]second');
  await c.stop();
});

test('sync resolves once every peer has the write; async resolves after the outbox append', async () => {
  const c = await Cluster.start(['A', 'B', 'C'], { faults: { latency: { min: 50, max: 50 } } });
  await c.createKeygroup('kv', ['A', 'B', 'C']);

  const sync = await c.set('A', 'x', 'synced', 'kv', 'sync');
  let syncDone = false;
  void sync.result.then(() => (syncDone = true));
  await c.run(60); // request delivered, response still on its way
  assert.is(syncDone, false);
  assert.equal(values(await c.node('B').store.read('kv', 'x')), ['synced']);
  await c.run(50);
  assert.equal(await sync.result, { acknowledged: ['B', 'C'], pending: [] });

  const async = await c.set('A', 'y', 'later', 'kv', 'async');
  assert.equal(await async.result, { acknowledged: [], pending: ['B', 'C'] });
  assert.equal(await c.node('B').store.read('kv', 'y'), []);
  assert.equal(await c.node('A').outbox.peers(), ['B', 'C']);
  await c.run(200);
  assert.equal(values(await c.node('B').store.read('kv', 'y')), ['later']);
  assert.equal(await c.node('A').outbox.peers(), []);
  await c.stop();
});

test('a down or slow peer never fails a sync write; it is reported pending and delivered later', async () => {
  const c = await Cluster.start(['A', 'B', 'C'], { engine: { syncTimeoutMs: 1_000 } });
  await c.createKeygroup('kv', ['A', 'B', 'C']);
  c.network.down('C');
  const first = await c.set('A', 'x', 'one');
  assert.equal(await first.result, { acknowledged: ['B'], pending: ['C'] });
  // While C's delivery is backing off, a sync write does not wait for it at all.
  const second = await c.set('A', 'y', 'two');
  assert.equal(await second.result, { acknowledged: ['B'], pending: ['C'] });
  c.network.up('C');
  await c.run(3_000);
  await c.assertConverged();
  await c.assertNothingLost();

  // Slow: every message takes 5 s; the sync call gives up waiting after syncTimeoutMs.
  c.network.setFaults({ latency: { min: 5_000, max: 5_000 } });
  const slow = await c.set('A', 'z', 'three');
  let resolvedAt = 0;
  void slow.result.then(() => (resolvedAt = c.timers.now()));
  const started = c.timers.now();
  await c.run(1_500);
  assert.is(resolvedAt - started, 1_000);
  assert.equal(await slow.result, { acknowledged: [], pending: ['B', 'C'] });
  await c.run(20_000);
  await c.assertConverged();
  await c.stop();
});

test.run();
