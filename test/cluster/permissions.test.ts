// Roles across the cluster: what one node grants or revokes (stored in etcd) applies on every node.
import * as grpc from '@grpc/grpc-js';
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { eventually, NODES, only, rejects, sharedCluster, UserRole } from './harness.js';

const test = suite('cluster: permissions');
const cluster = sharedCluster();
test.after(() => cluster.close());

test('a role granted on one node lets the user in on every node; revoked, it keeps them out everywhere', async () => {
  const c = await cluster.get();
  const alice = await c.client('edge1', 'alice');
  await alice.createKeygroup('secrets');
  await alice.update('secrets', 'plan', 'classified');
  await alice.addReplica('secrets', 'edge2');
  await alice.addReplica('secrets', 'cloud');
  // Alice, the creator, reads on every replica.
  for (const node of NODES) {
    await eventually(async () => assert.is(only(await (await c.client(node, 'alice')).read('secrets', 'plan')).val, 'classified'), 2_000);
  }

  const bob = await Promise.all(NODES.map((node) => c.client(node, 'bob')));
  for (const client of bob) await rejects(client.read('secrets', 'plan'), grpc.status.PERMISSION_DENIED, /ReadKeygroup/);
  // Bob cannot grant himself anything.
  await rejects(bob[0]!.call('AddUser', { user: 'bob', keygroup: 'secrets', role: UserRole.ReadKeygroup }), grpc.status.PERMISSION_DENIED);

  await alice.call('AddUser', { user: 'bob', keygroup: 'secrets', role: UserRole.ReadKeygroup });
  for (const client of bob) {
    await eventually(async () => assert.is(only(await client.read('secrets', 'plan')).val, 'classified'), 2_000);
  }
  // Reading is all he got.
  for (const client of bob) await rejects(client.update('secrets', 'plan', 'leaked'), grpc.status.PERMISSION_DENIED, /WriteKeygroup/);

  await (await c.client('edge2', 'alice')).call('RemoveUser', { user: 'bob', keygroup: 'secrets', role: UserRole.ReadKeygroup });
  for (const client of bob) {
    await eventually(() => rejects(client.read('secrets', 'plan'), grpc.status.PERMISSION_DENIED), 2_000);
  }
});

test.run();
