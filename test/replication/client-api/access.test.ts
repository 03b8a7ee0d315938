// Users and roles over gRPC: every keygroup call needs its FReD role, the creator has them all,
// AddUser/RemoveUser take effect with the next call, and calls without a user are refused.
import * as grpc from '@grpc/grpc-js';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { createKeygroup, rejects, startNode, type TestNode } from './harness.js';

const test = suite<{ node: TestNode }>('client API: users and roles');

test.before.each(async (ctx) => {
  ctx.node = await startNode();
  await createKeygroup(ctx.node, 'kv');
  await createKeygroup(ctx.node, 'log', { mutable: false });
  await ctx.node.call('Update', { keygroup: 'kv', id: 'x', data: 'one', versions: [] });
  await ctx.node.call('Append', { keygroup: 'log', id: 1, data: 'one' });
});
test.after.each(async ({ node }) => node.close());

/** Every call FReD checks, with a request that succeeds for a user holding the role. */
const CHECKED: Array<[method: string, role: string, request: object]> = [
  ['Read', 'ReadKeygroup', { keygroup: 'kv', id: 'x' }],
  ['Scan', 'ReadKeygroup', { keygroup: 'kv', id: 'x', count: 1 }],
  ['Keys', 'ReadKeygroup', { keygroup: 'kv', id: 'x', count: 1 }],
  ['Update', 'WriteKeygroup', { keygroup: 'kv', id: 'x', data: 'two' }],
  ['Append', 'WriteKeygroup', { keygroup: 'log', id: 2, data: 'two' }],
  ['Delete', 'WriteKeygroup', { keygroup: 'kv', id: 'x' }],
  ['GetKeygroupInfo', 'ConfigureReplica', { keygroup: 'kv' }],
  ['AddReplica', 'ConfigureReplica', { keygroup: 'kv', nodeId: 'B', expiry: 0 }],
  ['RemoveReplica', 'ConfigureReplica', { keygroup: 'kv', nodeId: 'B' }],
  ['AddTrigger', 'ConfigureTrigger', { keygroup: 'kv', triggerId: 't', triggerHost: 'h.example:1' }],
  ['GetKeygroupTriggers', 'ConfigureTrigger', { keygroup: 'kv' }],
  ['RemoveTrigger', 'ConfigureTrigger', { keygroup: 'kv', triggerId: 't' }],
  ['AddUser', 'ConfigureKeygroups', { user: 'carol', keygroup: 'kv', role: 0 }],
  ['RemoveUser', 'ConfigureKeygroups', { user: 'carol', keygroup: 'kv', role: 0 }],
  ['DeleteKeygroup', 'ConfigureKeygroups', { keygroup: 'kv' }],
];

test('a user without roles gets PERMISSION_DENIED naming the missing role, and nothing changes', async ({ node }) => {
  for (const [method, role, request] of CHECKED) {
    const error = await rejects(node.call(method, request, 'bob'), grpc.status.PERMISSION_DENIED);
    assert.match(error.details, new RegExp(`user bob may not call ${method} on keygroup (kv|log): that needs the ${role} role`));
  }
  assert.is(node.replication.writes.length, 2);
  assert.equal((await node.naming.getKeygroup('kv'))!.replicas.map((r) => r.node), ['A']);
  assert.equal(await node.naming.getPermissions('carol', 'kv'), []);
});

test('the creator may make every call (in this order they all succeed)', async ({ node }) => {
  for (const [method, , request] of CHECKED) {
    try {
      await node.call(method, request, 'alice');
    } catch (error) {
      assert.unreachable(`${method} as the creator failed: ${(error as Error).message}`);
    }
  }
  assert.is(await node.naming.getKeygroup('kv'), undefined);
});

test('each role grants exactly its calls, at once, and revoking takes them away at once', async ({ node }) => {
  for (const [method, role, request] of CHECKED.filter(([m]) => m !== 'DeleteKeygroup')) {
    const roleNumber = ['ReadKeygroup', 'WriteKeygroup', 'ConfigureReplica', 'ConfigureTrigger', 'ConfigureKeygroups'].indexOf(role);
    const keygroup = (request as { keygroup: string }).keygroup;
    await node.call('AddUser', { user: 'bob', keygroup, role: roleNumber });
    // Some calls need state left by an earlier one; a failure other than PERMISSION_DENIED is fine here.
    await node.call(method, request, 'bob').catch((error: grpc.ServiceError) => {
      assert.is.not(error.code, grpc.status.PERMISSION_DENIED, `${method} with ${role}: ${error.message}`);
    });
    await node.call('RemoveUser', { user: 'bob', keygroup, role: roleNumber });
    await rejects(node.call(method, request, 'bob'), grpc.status.PERMISSION_DENIED);
  }
});

test('ReadKeygroup lets a user read but not write', async ({ node }) => {
  await node.call('AddUser', { user: 'bob', keygroup: 'kv', role: 0 });
  const got = await node.call<{ data: Array<{ val: string }> }>('Read', { keygroup: 'kv', id: 'x' }, 'bob');
  assert.equal(got.data.map((i) => i.val), ['one']);
  await rejects(node.call('Update', { keygroup: 'kv', id: 'x', data: 'bob was here' }, 'bob'), grpc.status.PERMISSION_DENIED, /WriteKeygroup/);
  await rejects(node.call('Read', { keygroup: 'log', id: '1' }, 'bob'), grpc.status.PERMISSION_DENIED);
});

test('a user granted ConfigureKeygroups may grant roles to others', async ({ node }) => {
  await rejects(node.call('AddUser', { user: 'carol', keygroup: 'kv', role: 0 }, 'bob'), grpc.status.PERMISSION_DENIED);
  await node.call('AddUser', { user: 'bob', keygroup: 'kv', role: 4 });
  await node.call('AddUser', { user: 'carol', keygroup: 'kv', role: 1 }, 'bob');
  assert.equal(await node.naming.getPermissions('carol', 'kv'), ['Delete', 'Update']);
});

test('AddUser and RemoveUser refuse unknown roles and unknown keygroups', async ({ node }) => {
  await rejects(node.call('AddUser', { user: 'bob', keygroup: 'kv', role: 5 }), grpc.status.INVALID_ARGUMENT, /invalid role 5/);
  await rejects(node.call('RemoveUser', { user: 'bob', keygroup: 'kv', role: -1 }), grpc.status.INVALID_ARGUMENT, /invalid role/);
  await rejects(node.call('AddUser', { user: 'bob', keygroup: 'nope', role: 0 }), grpc.status.NOT_FOUND);
  await rejects(node.call('AddUser', { user: 'b|ob', keygroup: 'kv', role: 0 }), grpc.status.INVALID_ARGUMENT, /invalid user/);
});

test('a call without an authenticated user is UNAUTHENTICATED, even for node lists', async ({ node }) => {
  await rejects(node.call('GetAllReplica', {}, null), grpc.status.UNAUTHENTICATED, /no authenticated user/);
  await rejects(node.call('Read', { keygroup: 'kv', id: 'x' }, null), grpc.status.UNAUTHENTICATED);
  await rejects(node.call('CreateKeygroup', { keygroup: 'mine', mutable: true, expiry: 0 }, null), grpc.status.UNAUTHENTICATED);
  assert.is(await node.naming.getKeygroup('mine'), undefined);
});

test('any authenticated user may create a keygroup and then owns it', async ({ node }) => {
  await node.call('CreateKeygroup', { keygroup: 'bobs', mutable: true, expiry: 0 }, 'bob');
  await node.call('Update', { keygroup: 'bobs', id: 'x', data: 'mine' }, 'bob');
  await rejects(node.call('Read', { keygroup: 'bobs', id: 'x' }, 'alice'), grpc.status.PERMISSION_DENIED);
});

test.run();
