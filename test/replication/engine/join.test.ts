// Joining and leaving keygroups: full copy for a late replica, removal drops data, member checks.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { PeerUnsupportedError } from '../../../replication/engine/transport.js';
import { Cluster, v } from './cluster.js';

async function seeded(c: Cluster): Promise<void> {
  await c.createKeygroup('kv', ['A', 'B']);
  await c.set('A', 'x', 'concurrentA');
  c.network.partition('A', 'B');
  await c.set('B', 'y', 'one');
  await c.set('A', 'y', 'two'); // concurrent with B's: two siblings once healed
  c.network.heal();
  await c.run(5_000);
  for (let i = 0; i < 20; i++) await c.set(i % 2 ? 'A' : 'B', `k${i}`, v(i));
  await c.run(100);
  await c.del('B', 'k3');
  await c.del('A', 'x');
  await c.run(10);
}

test('a late joiner receives the full keygroup with every sibling and tombstone', async () => {
  const c = await Cluster.start(['A', 'B'], { faults: { latency: { min: 1, max: 5 } } });
  await seeded(c);
  const copy = await c.assertConverged('kv', ['A', 'B']);
  assert.ok(copy.includes('x=x[A:2]'), copy);
  assert.ok(copy.includes('y=v[A:1]two|v[B:1]one'), copy);

  await c.addNode('C');
  c.registry.addReplica('kv', { nodeId: 'C', expiry: 0 });
  await c.run(100);
  assert.equal(await c.node('C').store.getKeygroup('kv'), { name: 'kv', mutable: true, expiry: 0 });
  assert.is(await c.canonical('C'), copy);
  await c.assertNothingLost();
  await c.stop();
});

test('writes made while the joiner fetches are not lost, in either direction', async () => {
  const c = await Cluster.start(['A', 'B'], { faults: { latency: { min: 5, max: 30 } } });
  await seeded(c);
  await c.addNode('C');
  c.registry.addReplica('kv', { nodeId: 'C', expiry: 0 });
  // Keep writing on the old members and on the joiner before its fetch can have completed.
  await c.run(1);
  for (let i = 0; i < 10; i++) {
    await c.set(['A', 'B'][i % 2]!, `new${i}`, v(i), 'kv', 'async');
    await c.run(3);
  }
  await c.set('C', 'fromC', 'joiner', 'kv', 'async');
  await c.run(2_000);
  await c.assertConverged();
  await c.assertNothingLost();
  await c.stop();
});

test('a replica invited with CreateKeygroup creates the keygroup with its expiry and joins', async () => {
  const c = await Cluster.start(['A', 'B']);
  await seeded(c);
  await c.addNode('C');
  c.registry.addReplica('kv', { nodeId: 'C', expiry: 3600 });
  // The invitation can arrive before C has processed the membership change: the same result.
  await c.runUntil(c.node('A').engine.inviteReplica('kv', 'C', 3600));
  await c.run(100);
  assert.equal(await c.node('C').store.getKeygroup('kv'), { name: 'kv', mutable: true, expiry: 3600 });
  await c.assertConverged();
  await c.stop();
});

test('join() lets a caller wait until the new replica holds the keygroup', async () => {
  const c = await Cluster.start(['A', 'B'], { faults: { latency: { min: 5, max: 20 } } });
  await seeded(c);
  await c.addNode('C');
  c.registry.addReplica('kv', { nodeId: 'C', expiry: 0 });
  assert.is(await c.runUntil(c.node('C').engine.join('kv')), true);
  assert.is(await c.canonical('C'), await c.canonical('A'));
  await c.stop();
});

test('a member without the digest exchange (a FReD node) is reconciled through its full copy', async () => {
  const c = await Cluster.start(['A', 'B']);
  await seeded(c);
  const fred = c.node('B').engine;
  let asked = 0;
  c.network.register('B', {
    handle: (from, m) => fred.handle(from, m),
    getItem: (from, r) => fred.getItem(from, r),
    getAllItems: (from, r) => fred.getAllItems(from, r),
    exchangeDigest: async () => {
      asked++;
      throw new PeerUnsupportedError('B');
    },
  });
  // B holds a write that A never got, so only B itself can supply it.
  await c.node('B').store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'onlyB', value: 'b' }]);
  await c.addNode('C');
  c.registry.addReplica('kv', { nodeId: 'C', expiry: 0 });
  assert.is(await c.runUntil(c.node('C').engine.join('kv')), true);
  assert.is(asked, 1, 'C copied from A and reconciled with B (this seed)');
  assert.is(await c.canonical('C'), await c.canonical('B'));
  await c.stop();
});

test('FReD members do not hold up a join and are not asked again once it is done', async () => {
  const c = await Cluster.start(['A', 'B', 'C']);
  await c.createKeygroup('kv', ['A', 'B', 'C']);
  await c.set('A', 'x', 'one');
  await c.run(100);
  let asked = 0;
  for (const id of ['B', 'C']) {
    const fred = c.node(id).engine;
    c.network.register(id, {
      handle: (from, m) => fred.handle(from, m),
      getItem: (from, r) => fred.getItem(from, r),
      getAllItems: (from, r) => fred.getAllItems(from, r),
      exchangeDigest: async () => {
        asked++;
        throw new PeerUnsupportedError(id);
      },
    });
    // Something only this FReD member holds: it must reach the joiner all the same.
    await c.node(id).store.applyLocal([{ kind: 'set', keygroup: 'kv', id: `only${id}`, value: id }]);
  }
  await c.addNode('D');
  c.registry.addReplica('kv', { nodeId: 'D', expiry: 0 });
  assert.is(await c.runUntil(c.node('D').engine.join('kv'), 5_000), true);
  const joinedAfter = asked;
  assert.ok(joinedAfter <= 2, `each FReD member asked at most once while joining, got ${joinedAfter}`);
  await c.run(60_000);
  assert.is(asked, joinedAfter, 'no retries after the join');
  const copy = await c.canonical('D');
  for (const line of ['onlyB=v[B:1]B', 'onlyC=v[C:1]C', 'x=v[A:1]one']) assert.ok(copy.includes(line), copy);
  await c.stop();
});

test('a joiner whose members are unreachable retries until one answers', async () => {
  const c = await Cluster.start(['A', 'B']);
  await seeded(c);
  await c.addNode('C');
  c.network.isolate('C', ['A', 'B']);
  c.registry.addReplica('kv', { nodeId: 'C', expiry: 0 });
  await c.run(5_000);
  assert.is(await c.canonical('C'), '');
  c.network.heal();
  await c.run(5_000);
  await c.assertConverged();
  await c.stop();
});

test('a removed replica drops its copy; the others stop sending to it', async () => {
  const c = await Cluster.start(['A', 'B', 'C']);
  await c.createKeygroup('kv', ['A', 'B', 'C']);
  await c.set('A', 'x', 'one');
  await c.run(10);
  c.network.down('C');
  await c.set('A', 'y', 'two', 'kv', 'async');
  c.registry.removeReplica('kv', 'C');
  await c.run(10);
  assert.is(await c.node('C').store.getKeygroup('kv'), undefined);
  c.network.up('C');
  await c.run(5_000);
  // A's queued write for C was dropped as irrelevant, not delivered and not retried forever.
  assert.equal(await c.node('A').outbox.peers(), []);
  assert.is(await c.node('C').store.getKeygroup('kv'), undefined);
  await c.set('B', 'z', 'three');
  await c.run(10);
  await c.assertConverged('kv', ['A', 'B']);
  await c.stop();
});

test('peer requests from nodes that are not members are refused', async () => {
  const c = await Cluster.start(['A', 'B', 'M']);
  await c.createKeygroup('kv', ['A', 'B']);
  await c.set('A', 'x', 'secret');
  await c.run(10);
  const intruder = c.network.transport('M');
  const refused = async (call: Promise<unknown>) => {
    const error = await c.runUntil(call.then(() => undefined, (e: unknown) => e));
    assert.is((error as { code?: string })?.code, 'ERR_NOT_A_MEMBER');
  };
  await refused(intruder.getAllItems('A', { keygroup: 'kv' }));
  await refused(intruder.getItem('A', { keygroup: 'kv', id: 'x' }));
  await refused(intruder.send('A', { type: 'putItem', keygroup: 'kv', id: 'x', value: 'evil', tombstone: false, version: { M: 9 } }));
  await refused(intruder.exchangeDigest('A', { keygroup: 'kv', buckets: 16, horizon: 0, hashes: Array(16).fill(''), maxBuckets: 4 }));
  // DeleteKeygroup from a non-member is only obeyed when membership no longer lists the receiver.
  const stillMember = await c.runUntil(intruder.send('A', { type: 'deleteKeygroup', keygroup: 'kv' }).catch((e) => e));
  assert.is((stillMember as { code?: string }).code, 'ERR_STILL_A_MEMBER');
  assert.equal((await c.node('A').store.read('kv', 'x')).map((s) => s.value), ['secret']);
  // Members must respect the keygroup's write rules too.
  const unversioned = c.network.transport('B').send('A', { type: 'putItem', keygroup: 'kv', id: 'x', value: 'v', tombstone: false, version: {} });
  assert.is(((await c.runUntil(unversioned.catch((e) => e))) as { code?: string }).code, 'ERR_WRONG_MUTABILITY');
  // A member may read single items, tombstones included.
  await c.del('A', 'x');
  await c.run(10);
  const items = await c.runUntil(c.network.transport('B').getItem('A', { keygroup: 'kv', id: 'x' }));
  assert.equal(items.map((i) => [i.id, i.value, i.tombstone, i.version]), [['x', '', true, { A: 2 }]]);
  await c.stop();
});

test.run();
