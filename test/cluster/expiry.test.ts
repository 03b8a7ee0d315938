// Per-replica expiry: items expire on the replica added with an expiry, and only there; the other
// replicas (and anti-entropy between them) do not bring them back.
import * as grpc from '@grpc/grpc-js';
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { eventually, only, rejects, sharedCluster, sleep } from './harness.js';

const test = suite('cluster: expiry');
// Anti-entropy every second, so a resurrection would have several chances to happen.
const cluster = sharedCluster({ antiEntropySeconds: 1 });
test.after(() => cluster.close());

test('items expire after 1 s on the replica added with expiry 1, and stay on the others', async () => {
  const c = await cluster.get();
  const [edge1, edge2, cloud] = [await c.client('edge1'), await c.client('edge2'), await c.client('cloud')];
  await edge1.createKeygroup('shortlived');
  await edge1.addReplica('shortlived', 'cloud');
  await edge1.addReplica('shortlived', 'edge2', 1);
  const info = await edge1.call<{ replica: Array<{ nodeId: string; expiry: string }> }>('GetKeygroupInfo', { keygroup: 'shortlived' });
  assert.equal(info.replica.map((r) => [r.nodeId, r.expiry]), [['cloud', '0'], ['edge1', '0'], ['edge2', '1']]);

  // Written on the expiring replica and on another one.
  await eventually(() => edge2.update('shortlived', 'local', 'fromEdge2'), 2_000);
  const written = Date.now();
  await edge1.update('shortlived', 'remote', 'fromEdge1');
  for (const id of ['local', 'remote']) assert.ok(only(await edge2.read('shortlived', id)));

  for (const id of ['local', 'remote']) {
    await eventually(() => rejects(edge2.read('shortlived', id), grpc.status.NOT_FOUND), 3_000);
  }
  const expiredAfter = Date.now() - written;
  assert.ok(expiredAfter >= 900, `expired after ${expiredAfter} ms, before its 1 s`);

  // Two more anti-entropy rounds: the copies on edge1 and cloud do not come back to edge2.
  await sleep(2_200);
  for (const id of ['local', 'remote']) {
    await rejects(edge2.read('shortlived', id), grpc.status.NOT_FOUND);
    assert.is(only(await edge1.read('shortlived', id)).val, id === 'local' ? 'fromEdge2' : 'fromEdge1');
    assert.is(only(await cloud.read('shortlived', id)).val, id === 'local' ? 'fromEdge2' : 'fromEdge1');
  }
  // A new write is there again, for its own second.
  await edge1.update('shortlived', 'remote', 'again');
  assert.is(only(await edge2.read('shortlived', 'remote')).val, 'again');
});

test('AddReplica on another node changes an existing replica\'s expiry there', async () => {
  const c = await cluster.get();
  const [edge1, cloud] = [await c.client('edge1'), await c.client('cloud')];
  await edge1.createKeygroup('relabelled');
  await edge1.update('relabelled', 'x', 'kept-until-now');
  await edge1.addReplica('relabelled', 'cloud');
  await eventually(async () => assert.is(only(await cloud.read('relabelled', 'x')).val, 'kept-until-now'), 2_000);

  await edge1.addReplica('relabelled', 'cloud', 1);
  // Expiry counts from when the item was stored, so x goes about a second after its write.
  await eventually(() => rejects(cloud.read('relabelled', 'x'), grpc.status.NOT_FOUND), 3_000);
  assert.is(only(await edge1.read('relabelled', 'x')).val, 'kept-until-now');
});

test.run();
