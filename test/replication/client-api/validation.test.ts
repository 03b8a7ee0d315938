// Malformed requests get INVALID_ARGUMENT naming the bad field before anything happens; failures
// without a known code become INTERNAL without their text, and the server keeps serving.
import * as grpc from '@grpc/grpc-js';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { createClientService } from '../../../replication/client-api/service.js';
import { MemoryTriggerStore } from '../../../replication/client-api/triggers.js';
import { MemoryNaming } from '../../../replication/naming/memory-naming.js';
import { MemoryReplicaStore } from '../../../replication/store/memory-store.js';
import { createKeygroup, rejects, startNode, v, type TestNode } from './harness.js';

const test = suite<{ node: TestNode }>('client API: validation and robustness');

test.before.each(async (ctx) => {
  ctx.node = await startNode({ maxValueBytes: 64 });
  await createKeygroup(ctx.node, 'kv');
  await createKeygroup(ctx.node, 'log', { mutable: false });
});
test.after.each(async ({ node }) => node.close());

const BAD_NAMES = ['', 'a-b', 'ä', 'a b', 'a'.repeat(513)];

test('every RPC naming a keygroup refuses malformed keygroup names', async ({ node }) => {
  const requests: Array<[string, (keygroup: string) => object]> = [
    ['CreateKeygroup', (keygroup) => ({ keygroup, mutable: true, expiry: 0 })],
    ['DeleteKeygroup', (keygroup) => ({ keygroup })],
    ['Read', (keygroup) => ({ keygroup, id: 'x' })],
    ['Scan', (keygroup) => ({ keygroup, id: 'x', count: 1 })],
    ['Keys', (keygroup) => ({ keygroup, id: 'x', count: 1 })],
    ['Update', (keygroup) => ({ keygroup, id: 'x', data: 'v' })],
    ['Append', (keygroup) => ({ keygroup, id: 1, data: 'v' })],
    ['Delete', (keygroup) => ({ keygroup, id: 'x' })],
    ['AddReplica', (keygroup) => ({ keygroup, nodeId: 'B', expiry: 0 })],
    ['RemoveReplica', (keygroup) => ({ keygroup, nodeId: 'B' })],
    ['GetKeygroupInfo', (keygroup) => ({ keygroup })],
    ['GetKeygroupTriggers', (keygroup) => ({ keygroup })],
    ['AddTrigger', (keygroup) => ({ keygroup, triggerId: 't', triggerHost: 'h.example:1' })],
    ['RemoveTrigger', (keygroup) => ({ keygroup, triggerId: 't' })],
    ['AddUser', (keygroup) => ({ user: 'bob', keygroup, role: 0 })],
    ['RemoveUser', (keygroup) => ({ user: 'bob', keygroup, role: 0 })],
  ];
  for (const [method, request] of requests) {
    for (const name of BAD_NAMES) {
      await rejects(node.call(method, request(name)), grpc.status.INVALID_ARGUMENT, /invalid keygroup name/);
    }
  }
});

test('item RPCs refuse malformed ids', async ({ node }) => {
  for (const id of BAD_NAMES) {
    for (const method of ['Read', 'Delete', 'Scan', 'Keys']) {
      await rejects(node.call(method, { keygroup: 'kv', id, count: 1 }), grpc.status.INVALID_ARGUMENT, /invalid item id/);
    }
    await rejects(node.call('Update', { keygroup: 'kv', id, data: 'v' }), grpc.status.INVALID_ARGUMENT, /invalid item id/);
  }
});

test('values must be non-empty and within the size limit', async ({ node }) => {
  await rejects(node.call('Update', { keygroup: 'kv', id: 'x', data: '' }), grpc.status.INVALID_ARGUMENT, /must not be empty/);
  await rejects(node.call('Append', { keygroup: 'log', id: 1, data: '' }), grpc.status.INVALID_ARGUMENT, /must not be empty/);
  await rejects(node.call('Update', { keygroup: 'kv', id: 'x', data: 'é'.repeat(40) }), grpc.status.INVALID_ARGUMENT, /80 bytes .* at most 64/);
  assert.equal(node.replication.writes, []);
});

test('expiry must not be negative', async ({ node }) => {
  await rejects(node.call('CreateKeygroup', { keygroup: 'neg', mutable: true, expiry: -1 }), grpc.status.INVALID_ARGUMENT, /expiry.*negative/);
  await rejects(node.call('AddReplica', { keygroup: 'kv', nodeId: 'B', expiry: '-5' }), grpc.status.INVALID_ARGUMENT, /expiry.*negative/);
  assert.is(await node.naming.getKeygroup('neg'), undefined);
});

test('versions must be exact: counters above 2^53-1 and malformed node ids are refused', async ({ node }) => {
  await node.call('Update', { keygroup: 'kv', id: 'x', data: 'v' });
  const huge = { version: { A: '9007199254740993' } };
  await rejects(node.call('Update', { keygroup: 'kv', id: 'x', data: 'w', versions: [huge] }), grpc.status.INVALID_ARGUMENT, /versions\[0\]/);
  await rejects(node.call('Read', { keygroup: 'kv', id: 'x', versions: [v({ 'A:B': 1 })] }), grpc.status.INVALID_ARGUMENT, /invalid version/);
  await rejects(
    node.call('Delete', { keygroup: 'kv', id: 'x', versions: Array.from({ length: 1025 }, () => v({ A: 1 })) }),
    grpc.status.INVALID_ARGUMENT,
    /at most 1024/,
  );
});

test('node ids, users, trigger ids and roles are checked', async ({ node }) => {
  for (const nodeId of ['', 'a|b', 'a:b', 'a,b', 'line\nbreak']) {
    await rejects(node.call('AddReplica', { keygroup: 'kv', nodeId, expiry: 0 }), grpc.status.INVALID_ARGUMENT, /invalid node id/);
    await rejects(node.call('GetReplica', { nodeId }), grpc.status.INVALID_ARGUMENT, /invalid node id/);
  }
  await rejects(node.call('AddUser', { user: '', keygroup: 'kv', role: 1 }), grpc.status.INVALID_ARGUMENT, /invalid user/);
  await rejects(node.call('RemoveTrigger', { keygroup: 'kv', triggerId: '\u0000' }), grpc.status.INVALID_ARGUMENT, /invalid trigger id/);
  await rejects(node.call('AddUser', { user: 'bob', keygroup: 'kv', role: 99 }), grpc.status.INVALID_ARGUMENT, /invalid role 99/);
});

test('a failure without a known code is INTERNAL without its text, logged, and the server keeps serving', async ({ node }) => {
  const original = node.naming.getKeygroup.bind(node.naming);
  node.naming.getKeygroup = async () => {
    throw new Error('secret host detail');
  };
  const error = await rejects(node.call('Read', { keygroup: 'kv', id: 'x' }), grpc.status.INTERNAL);
  assert.is(error.details, 'internal error in Read');
  assert.ok(node.logs.some((l) => l.level === 'error' && l.fields.fn === 'Read' && String(l.fields.err).includes('secret host detail')));
  node.naming.getKeygroup = original;
  await node.call('Update', { keygroup: 'kv', id: 'x', data: 'still serving' });
});

test('naming and store unavailability map to UNAVAILABLE', async ({ node }) => {
  await node.store.close();
  await rejects(node.call('Read', { keygroup: 'kv', id: 'x' }), grpc.status.UNAVAILABLE);
  await node.store.open();
  await node.naming.close();
  await rejects(node.call('Read', { keygroup: 'kv', id: 'x' }), grpc.status.UNAVAILABLE, /naming service is closed/);
});

test('a throwing userOf or logger cannot crash the node', async () => {
  const node = await startNode({
    userOf: () => {
      throw new Error('certificate parser bug');
    },
    logger: {
      debug: () => {},
      warn: () => {},
      error: () => {
        throw new Error('logger bug');
      },
    },
  });
  try {
    await rejects(node.call('GetAllReplica', {}), grpc.status.INTERNAL, /internal error in GetAllReplica/);
    await rejects(node.call('GetAllReplica', {}), grpc.status.INTERNAL);
  } finally {
    await node.close();
  }
});

test('createClientService refuses a store ticking another node id', async () => {
  const store = new MemoryReplicaStore({ nodeId: 'other' });
  assert.throws(
    () =>
      createClientService({
        nodeId: 'A',
        store,
        naming: new MemoryNaming(),
        replication: { writeLocal: async () => {}, joinKeygroup: async () => {}, leaveKeygroup: async () => {} },
        triggers: new MemoryTriggerStore(),
        callTrigger: async () => {},
        userOf: () => 'alice',
      }),
    /differs from the store's node id/,
  );
});

test.run();
