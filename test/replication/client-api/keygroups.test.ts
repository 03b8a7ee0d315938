// Keygroup and replica RPCs over gRPC: creation and deletion through the naming service and the
// local store, membership changes and who gets told, keygroup info and node addresses.
import * as grpc from '@grpc/grpc-js';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { ROLE_METHODS } from '../../../replication/naming/port.js';
import { createKeygroup, EXT, rejects, startNode, type TestNode } from './harness.js';

const test = suite<{ node: TestNode }>('client API: keygroups and replicas');

test.before.each(async (ctx) => {
  ctx.node = await startNode();
});
test.after.each(async ({ node }) => node.close());

const info = (node: TestNode, keygroup: string) => node.call('GetKeygroupInfo', { keygroup });

test('CreateKeygroup registers this node as the only replica, creates the local copy and gives the creator every role', async ({ node }) => {
  await node.call('CreateKeygroup', { keygroup: 'kv', mutable: false, expiry: 30 });
  assert.equal(await node.naming.getKeygroup('kv'), { name: 'kv', mutable: false, replicas: [{ node: 'A', expiry: 30 }] });
  assert.equal(await node.store.getKeygroup('kv'), { name: 'kv', mutable: false, expiry: 30 });
  assert.equal(await node.naming.getPermissions('alice', 'kv'), Object.values(ROLE_METHODS).flat().sort());
  assert.equal(await node.naming.getPermissions('bob', 'kv'), []);
});

test('CreateKeygroup of a name that exists anywhere in the cluster is ALREADY_EXISTS', async ({ node }) => {
  await node.naming.createKeygroup({ name: 'elsewhere', mutable: true, expiry: 0, node: 'B', owner: 'carol' });
  await rejects(node.call('CreateKeygroup', { keygroup: 'elsewhere', mutable: false, expiry: 0 }), grpc.status.ALREADY_EXISTS, /already exists/);
  assert.is(await node.store.getKeygroup('elsewhere'), undefined);
  assert.equal(await node.naming.getPermissions('alice', 'elsewhere'), []);
});

test('a stale local copy left from an earlier keygroup of that name does not leak into the new one', async ({ node }) => {
  await node.store.createKeygroup({ name: 'kv', mutable: true, expiry: 0 });
  await node.store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'old', value: 'secret' }]);
  await node.triggers.add('kv', { id: 'old', host: 'old.example:1' });
  await createKeygroup(node, 'kv');
  await rejects(node.call('Read', { keygroup: 'kv', id: 'old' }), grpc.status.NOT_FOUND);
  assert.equal(await node.triggers.list('kv'), []);
});

test('DeleteKeygroup removes it from the naming service, this node and the other replicas', async ({ node }) => {
  await createKeygroup(node, 'kv');
  await node.call('AddReplica', { keygroup: 'kv', nodeId: 'B', expiry: 0 });
  await node.call('AddTrigger', { keygroup: 'kv', triggerId: 't', triggerHost: 'h.example:1' });
  await rejects(node.call('DeleteKeygroup', { keygroup: 'kv' }, 'bob'), grpc.status.PERMISSION_DENIED, /ConfigureKeygroups/);
  await node.call('DeleteKeygroup', { keygroup: 'kv' });
  assert.is(await node.naming.getKeygroup('kv'), undefined);
  assert.is(await node.store.getKeygroup('kv'), undefined);
  assert.equal(node.replication.leaves, ['kv']);
  assert.equal(node.replication.drops, [['kv', 'B']]);
  assert.equal(await node.triggers.list('kv'), []);
  await rejects(node.call('Read', { keygroup: 'kv', id: 'x' }), grpc.status.NOT_FOUND, /keygroup kv does not exist/);
  await rejects(node.call('DeleteKeygroup', { keygroup: 'kv' }), grpc.status.NOT_FOUND);
});

test('AddReplica of another node records it with its expiry and invites it; GetKeygroupInfo lists members with client addresses', async ({ node }) => {
  await createKeygroup(node, 'kv', { expiry: 10 });
  await node.call('AddReplica', { keygroup: 'kv', nodeId: 'B', expiry: 60 });
  assert.equal(node.replication.invites, [['kv', 'B', 60]]);
  assert.equal(await info(node, 'kv'), {
    mutable: true,
    replica: [
      { nodeId: 'A', expiry: '10', host: EXT.A },
      { nodeId: 'B', expiry: '60', host: EXT.B },
    ],
  });
  // Calling it again changes the expiry.
  await node.call('AddReplica', { keygroup: 'kv', nodeId: 'B', expiry: 5 });
  assert.equal((await node.naming.getKeygroup('kv'))!.replicas, [{ node: 'A', expiry: 10 }, { node: 'B', expiry: 5 }]);
  await rejects(node.call('AddReplica', { keygroup: 'kv', nodeId: 'Z', expiry: 0 }), grpc.status.NOT_FOUND, /node Z is not registered/);
});

test('a failed invitation does not fail AddReplica: the new member also learns from the naming service', async ({ node }) => {
  await createKeygroup(node, 'kv');
  node.replication.failInvites = true;
  await node.call('AddReplica', { keygroup: 'kv', nodeId: 'C', expiry: 0 });
  assert.equal((await node.naming.getKeygroup('kv'))!.replicas.map((r) => r.node), ['A', 'C']);
  assert.ok(node.logs.some((l) => l.level === 'warn' && l.fields.peer === 'C'));
});

test('AddReplica of this node joins the keygroup here, after which it serves data', async ({ node }) => {
  await node.naming.createKeygroup({ name: 'remote', mutable: true, expiry: 0, node: 'B', owner: 'alice' });
  await rejects(node.call('Read', { keygroup: 'remote', id: 'x' }), grpc.status.FAILED_PRECONDITION, /not a replica of keygroup remote; its replicas are: B/);
  await node.call('AddReplica', { keygroup: 'remote', nodeId: 'A', expiry: 30 });
  assert.equal(node.replication.joins, [['remote', 30]]);
  assert.equal(node.replication.invites, []);
  assert.equal(await node.call('Update', { keygroup: 'remote', id: 'x', data: 'here', versions: [] }), { version: { version: { A: '1' } } });
});

test('RemoveReplica: never the last member; removing another node tells it, removing this node drops the local copy', async ({ node }) => {
  await createKeygroup(node, 'kv');
  await node.call('AddTrigger', { keygroup: 'kv', triggerId: 't', triggerHost: 'h.example:1' });
  await rejects(node.call('RemoveReplica', { keygroup: 'kv', nodeId: 'A' }), grpc.status.FAILED_PRECONDITION, /last replica/);
  await rejects(node.call('RemoveReplica', { keygroup: 'kv', nodeId: 'B' }), grpc.status.NOT_FOUND, /not a replica/);
  await node.call('AddReplica', { keygroup: 'kv', nodeId: 'B', expiry: 0 });
  await node.call('AddReplica', { keygroup: 'kv', nodeId: 'C', expiry: 0 });

  await node.call('RemoveReplica', { keygroup: 'kv', nodeId: 'C' });
  assert.equal(node.replication.drops, [['kv', 'C']]);
  assert.equal(node.replication.leaves, []);

  await node.call('RemoveReplica', { keygroup: 'kv', nodeId: 'A' });
  assert.equal(node.replication.leaves, ['kv']);
  assert.is(await node.store.getKeygroup('kv'), undefined);
  assert.equal(await node.triggers.list('kv'), []);
  assert.equal((await info(node, 'kv') as { replica: Array<{ nodeId: string }> }).replica.map((r) => r.nodeId), ['B']);
  await rejects(node.call('Update', { keygroup: 'kv', id: 'x', data: 'y', versions: [] }), grpc.status.FAILED_PRECONDITION, /replicas are: B/);
});

test('a node that still holds a copy after being removed elsewhere refuses to serve it', async ({ node }) => {
  await createKeygroup(node, 'kv');
  await node.call('Update', { keygroup: 'kv', id: 'x', data: 'old', versions: [] });
  await node.naming.addReplica('kv', 'B', 0);
  await node.naming.removeReplica('kv', 'A'); // as another node would, before this one drops its copy
  await rejects(node.call('Read', { keygroup: 'kv', id: 'x' }), grpc.status.FAILED_PRECONDITION, /not a replica/);
});

test('GetKeygroupInfo needs the ConfigureReplica role and an existing keygroup', async ({ node }) => {
  await createKeygroup(node, 'kv');
  await rejects(info(node, 'nope'), grpc.status.NOT_FOUND);
  await rejects(node.call('GetKeygroupInfo', { keygroup: 'kv' }, 'bob'), grpc.status.PERMISSION_DENIED, /ConfigureReplica/);
});

test('GetReplica and GetAllReplica list nodes with their client-API address', async ({ node }) => {
  assert.equal(await node.call('GetReplica', { nodeId: 'B' }, 'bob'), { nodeId: 'B', host: EXT.B });
  await rejects(node.call('GetReplica', { nodeId: 'Z' }), grpc.status.NOT_FOUND, /node Z is not registered/);
  assert.equal(await node.call('GetAllReplica', {}, 'bob'), {
    replicas: [
      { nodeId: 'A', host: EXT.A },
      { nodeId: 'B', host: EXT.B },
      { nodeId: 'C', host: EXT.C },
    ],
  });
});

test.run();
