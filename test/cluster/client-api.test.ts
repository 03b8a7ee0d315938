// FReD's client API across a cluster of three nodes over mTLS, with the semantics FReD clients
// rely on: cluster-wide keygroups, replica management, replicated writes and deletes, siblings
// of concurrent writes, immutable keygroups and the node directory.
import * as grpc from '@grpc/grpc-js';
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { eventually, FredClient, only, rejects, sharedCluster, type CallFailure, type WireVersion } from './harness.js';

const test = suite('cluster: FReD client API');
const cluster = sharedCluster();
test.after(() => cluster.close());

/**
 * A Read on a replica just added by AddReplica: the copy is there once AddReplica has answered.
 * Only the node's view of the membership (an etcd watch) may lag a moment, which it reports as
 * FAILED_PRECONDITION ("not a replica"); NOT_FOUND would be a wrong answer.
 */
async function readOnNewReplica(client: FredClient, keygroup: string, id: string) {
  const first = await client.read(keygroup, id).catch((error: CallFailure) => error);
  if (!(first instanceof Error)) return only(first);
  assert.is(grpc.status[first.code], 'FAILED_PRECONDITION', first.message);
  return only(await eventually(() => client.read(keygroup, id), 2_000));
}

test('CreateKeygroup is cluster-wide: the same name on another node is ALREADY_EXISTS', async () => {
  const c = await cluster.get();
  await (await c.client('edge1')).createKeygroup('created');
  await rejects((await c.client('edge2')).createKeygroup('created'), grpc.status.ALREADY_EXISTS, /created/);
  await rejects((await c.client('cloud', 'bob')).createKeygroup('created', false), grpc.status.ALREADY_EXISTS);
});

test('AddReplica copies existing data to the new replica; then writes on either node are read alike on both', async () => {
  const c = await cluster.get();
  const [edge1, edge2] = [await c.client('edge1'), await c.client('edge2')];
  await edge1.createKeygroup('copied');
  const v1 = await edge1.update('copied', 'x', 'one');
  assert.equal(v1, { edge1: '1' });
  assert.equal(only(await edge1.read('copied', 'x')), { val: 'one', version: v1 });
  // Not a replica yet: edge2 refuses instead of answering from nothing.
  await rejects(edge2.read('copied', 'x'), grpc.status.FAILED_PRECONDITION, /not a replica/);

  await edge1.addReplica('copied', 'edge2');
  assert.equal(await readOnNewReplica(edge2, 'copied', 'x'), { val: 'one', version: v1 });

  // Sync replication: the other replica has a write as soon as the writer has answered.
  const v2 = await edge1.update('copied', 'x', 'two');
  assert.equal(only(await edge2.read('copied', 'x')), { val: 'two', version: v2 });
  const v3 = await edge2.update('copied', 'x', 'three');
  assert.equal(v3, { edge1: '2', edge2: '1' });
  assert.equal(only(await edge1.read('copied', 'x')), { val: 'three', version: v3 });
});

test('RemoveReplica drops the keygroup on the removed node; the last replica cannot be removed', async () => {
  const c = await cluster.get();
  const [edge1, edge2] = [await c.client('edge1'), await c.client('edge2')];
  await edge1.createKeygroup('removed');
  await edge1.update('removed', 'x', 'kept');
  await edge1.addReplica('removed', 'edge2');
  assert.is((await readOnNewReplica(edge2, 'removed', 'x')).val, 'kept');

  await edge1.removeReplica('removed', 'edge2');
  await eventually(() => rejects(edge2.read('removed', 'x'), grpc.status.FAILED_PRECONDITION, /not a replica/), 2_000);
  const info = await edge2.call<{ replica: Array<{ nodeId: string }> }>('GetKeygroupInfo', { keygroup: 'removed' });
  assert.equal(info.replica.map((r) => r.nodeId), ['edge1']);
  // edge1 keeps the data and takes writes without edge2.
  await edge1.update('removed', 'y', 'alone');
  assert.is(only(await edge1.read('removed', 'x')).val, 'kept');
  await rejects(edge1.removeReplica('removed', 'edge1'), grpc.status.FAILED_PRECONDITION);
});

test('Delete replicates: the item is gone on every replica once the delete has answered', async () => {
  const c = await cluster.get();
  const [edge1, edge2, cloud] = [await c.client('edge1'), await c.client('edge2'), await c.client('cloud')];
  await edge1.createKeygroup('deleted');
  await edge1.update('deleted', 'x', 'doomed');
  await edge1.addReplica('deleted', 'edge2');
  await edge1.addReplica('deleted', 'cloud');
  assert.is((await readOnNewReplica(edge2, 'deleted', 'x')).val, 'doomed');
  assert.is((await readOnNewReplica(cloud, 'deleted', 'x')).val, 'doomed');

  const tombstone = await edge1.delete('deleted', 'x');
  assert.equal(tombstone, { edge1: '2' });
  // Sync replication: gone everywhere once the delete has answered.
  for (const client of [edge1, edge2, cloud]) await rejects(client.read('deleted', 'x'), grpc.status.NOT_FOUND);
  // The key must exist to be deleted, on the other replicas too.
  await rejects(edge2.delete('deleted', 'x'), grpc.status.NOT_FOUND);
});

test('DeleteKeygroup removes the keygroup on every replica; a new one of the same name starts empty', async () => {
  const c = await cluster.get();
  const [edge1, edge2] = [await c.client('edge1'), await c.client('edge2')];
  await edge1.createKeygroup('recycled');
  await edge1.update('recycled', 'x', 'old');
  await edge1.addReplica('recycled', 'edge2');
  assert.is((await readOnNewReplica(edge2, 'recycled', 'x')).val, 'old');

  await edge1.call('DeleteKeygroup', { keygroup: 'recycled' });
  for (const client of [edge1, edge2]) {
    await eventually(() => rejects(client.read('recycled', 'x'), grpc.status.NOT_FOUND, /keygroup recycled does not exist/), 2_000);
  }
  await edge2.createKeygroup('recycled');
  await edge2.addReplica('recycled', 'edge1');
  // Nothing of the old incarnation comes back (edge1 may need a moment to see itself added).
  for (const client of [edge2, edge1]) {
    await eventually(() => rejects(client.read('recycled', 'x'), grpc.status.NOT_FOUND, /item x not found/), 2_000);
  }
});

test('concurrent Updates on two nodes become siblings, read as two items on every replica', async () => {
  const c = await cluster.get();
  const [edge1, edge2, cloud] = [await c.client('edge1'), await c.client('edge2'), await c.client('cloud')];
  await edge1.createKeygroup('raced');
  await edge1.update('raced', 'seed', 's');
  await edge1.addReplica('raced', 'edge2');
  await edge1.addReplica('raced', 'cloud');
  await readOnNewReplica(edge2, 'raced', 'seed');
  await readOnNewReplica(cloud, 'raced', 'seed');

  // Both writes start at the same moment. Each node applies its write before the other's
  // replicated write reaches it, unless scheduling delays one call until the other finished; a
  // fresh key is tried then (the sync fan-out makes such serialised runs possible, not likely).
  let concurrent: { id: string; versions: WireVersion[] } | undefined;
  for (let attempt = 0; attempt < 20 && !concurrent; attempt++) {
    const id = `k${attempt}`;
    const versions = await Promise.all([edge1.update('raced', id, 'left'), edge2.update('raced', id, 'right')]);
    if (versions.every((v) => Object.keys(v).length === 1)) concurrent = { id, versions };
  }
  assert.ok(concurrent, 'no two concurrent writes in 20 attempts');
  const expected: Array<{ val: string; version: WireVersion }> = [
    { val: 'left', version: { edge1: '1' } },
    { val: 'right', version: { edge2: '1' } },
  ];
  assert.equal(concurrent.versions, expected.map((e) => e.version));
  // Both calls have answered, so (sync replication) every replica holds both siblings.
  for (const client of [edge1, edge2, cloud]) {
    const items = (await client.read('raced', concurrent.id)).map((i) => ({ val: i.val, version: i.version.version }));
    assert.equal(items.sort((a, b) => a.val.localeCompare(b.val)), expected, client.address);
  }

  // A write that names both versions supersedes both siblings everywhere.
  const merged = await edge1.update('raced', concurrent.id, 'merged', expected.map((e) => e.version));
  assert.equal(merged, { edge1: '2', edge2: '1' });
  for (const client of [edge1, edge2, cloud]) {
    assert.equal(only(await client.read('raced', concurrent.id)), { val: 'merged', version: merged });
  }
});

test('immutable keygroups: Append replicates with client-chosen ids, never overwrites, refuses Update', async () => {
  const c = await cluster.get();
  const [edge1, edge2] = [await c.client('edge1'), await c.client('edge2')];
  await edge1.createKeygroup('appended', false);
  assert.equal(await edge1.call('Append', { keygroup: 'appended', id: 1, data: 'first' }), { id: '1' });
  await edge1.addReplica('appended', 'edge2');
  assert.equal(await readOnNewReplica(edge2, 'appended', '1'), { val: 'first', version: {} });
  assert.equal(await edge2.call('Append', { keygroup: 'appended', id: 2, data: 'second' }), { id: '2' });
  // An id taken on one replica is taken on the other.
  await rejects(edge2.call('Append', { keygroup: 'appended', id: 1, data: 'again' }), grpc.status.FAILED_PRECONDITION);
  await rejects(edge1.update('appended', '1', 'changed'), grpc.status.FAILED_PRECONDITION, /immutable/);
  await rejects(edge1.delete('appended', '1'), grpc.status.FAILED_PRECONDITION, /immutable/);
  for (const client of [edge1, edge2]) {
    assert.equal(only(await client.read('appended', '1')), { val: 'first', version: {} });
    const scan = await client.call<{ data: Array<{ id: string; val: string }> }>('Scan', { keygroup: 'appended', id: '1', count: 10 });
    assert.equal(scan.data.map((i) => [i.id, i.val]), [['1', 'first'], ['2', 'second']]);
  }
});

test('GetKeygroupInfo, GetReplica and GetAllReplica list nodes with their client API addresses', async () => {
  const c = await cluster.get();
  const edge2 = await c.client('edge2');
  await (await c.client('edge1')).createKeygroup('listed');
  await (await c.client('edge1')).addReplica('listed', 'cloud', 30);

  // edge2 answers from its view of etcd, which follows within moments.
  await eventually(async () => {
    const info = await edge2.call<{ mutable: boolean; replica: unknown[] }>('GetKeygroupInfo', { keygroup: 'listed' });
    assert.equal(info, {
      mutable: true,
      replica: [
        { nodeId: 'cloud', expiry: '30', host: c.clientAddress('cloud') },
        { nodeId: 'edge1', expiry: '0', host: c.clientAddress('edge1') },
      ],
    });
  }, 2_000);
  const all = await edge2.call<{ replicas: unknown[] }>('GetAllReplica');
  assert.equal(all.replicas, ['cloud', 'edge1', 'edge2'].map((nodeId) => ({ nodeId, host: c.clientAddress(nodeId as 'edge1') })));
  assert.equal(await edge2.call('GetReplica', { nodeId: 'edge1' }), { nodeId: 'edge1', host: c.clientAddress('edge1') });
  await rejects(edge2.call('GetReplica', { nodeId: 'nowhere' }), grpc.status.NOT_FOUND);
});

test.run();
