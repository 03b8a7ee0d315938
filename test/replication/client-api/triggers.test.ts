// Trigger RPCs over gRPC and the notifications they cause: registered per node, called on every
// put and delete, once per endpoint, and never able to fail a write.
import * as grpc from '@grpc/grpc-js';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { createTriggerNotifier, MemoryTriggerStore } from '../../../replication/client-api/triggers.js';
import type { TriggerEvent } from '../../../replication/client-api/deps.js';
import { createKeygroup, rejects, startNode, type TestNode } from './harness.js';

const test = suite<{ node: TestNode }>('client API: triggers');

test.before.each(async (ctx) => {
  ctx.node = await startNode();
  await createKeygroup(ctx.node, 'kv');
  await createKeygroup(ctx.node, 'log', { mutable: false });
  await createKeygroup(ctx.node, 'quiet');
});
test.after.each(async ({ node }) => node.close());

const addTrigger = (node: TestNode, keygroup: string, triggerId: string, triggerHost: string) =>
  node.call('AddTrigger', { keygroup, triggerId, triggerHost });
const list = async (node: TestNode, keygroup = 'kv') =>
  (await node.call<{ triggers: Array<{ id: string; host: string }> }>('GetKeygroupTriggers', { keygroup })).triggers;

test('AddTrigger, GetKeygroupTriggers and RemoveTrigger manage the keygroup triggers of this node', async ({ node }) => {
  await addTrigger(node, 'kv', 'zeta', 'z.example:1');
  await addTrigger(node, 'kv', 'alpha', 'a.example:1');
  assert.equal(await list(node), [{ id: 'alpha', host: 'a.example:1' }, { id: 'zeta', host: 'z.example:1' }]);
  assert.equal(await list(node, 'quiet'), []);
  // Adding an existing id moves it to the new host.
  await addTrigger(node, 'kv', 'alpha', 'a2.example:2');
  assert.equal((await list(node))[0], { id: 'alpha', host: 'a2.example:2' });
  await node.call('RemoveTrigger', { keygroup: 'kv', triggerId: 'zeta' });
  assert.equal(await list(node), [{ id: 'alpha', host: 'a2.example:2' }]);
  await rejects(node.call('RemoveTrigger', { keygroup: 'kv', triggerId: 'zeta' }), grpc.status.NOT_FOUND, /no trigger zeta/);
  await rejects(list(node, 'nope'), grpc.status.NOT_FOUND);
});

test('AddTrigger needs this node to be a replica and a dialable host', async ({ node }) => {
  await node.naming.createKeygroup({ name: 'remote', mutable: true, expiry: 0, node: 'B', owner: 'alice' });
  await rejects(addTrigger(node, 'remote', 't', 'h.example:1'), grpc.status.FAILED_PRECONDITION, /not a replica/);
  for (const host of ['', 'no-port', 'h.example:0', 'h.example:70000', 'two words:1']) {
    await rejects(addTrigger(node, 'kv', 't', host), grpc.status.INVALID_ARGUMENT, /invalid trigger host/);
  }
  await rejects(addTrigger(node, 'kv', '', 'h.example:1'), grpc.status.INVALID_ARGUMENT, /invalid trigger id/);
  assert.equal(await list(node), []);
});

test('Update, Delete and Append call every trigger of their keygroup before answering', async ({ node }) => {
  await addTrigger(node, 'kv', 't1', 'one.example:1');
  await addTrigger(node, 'kv', 't2', 'two.example:1');
  await addTrigger(node, 'log', 't3', 'three.example:1');
  await node.call('Update', { keygroup: 'kv', id: 'x', data: 'v1' });
  await node.call('Update', { keygroup: 'quiet', id: 'x', data: 'unseen' });
  await node.call('Delete', { keygroup: 'kv', id: 'x', versions: [{ version: { A: '1' } }] });
  await node.call('Append', { keygroup: 'log', id: 9, data: 'entry' });
  const seen = node.triggerCalls.map((c) => [c.host, c.event]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  const put: TriggerEvent = { kind: 'put', keygroup: 'kv', id: 'x', value: 'v1' };
  const del: TriggerEvent = { kind: 'delete', keygroup: 'kv', id: 'x' };
  assert.equal(seen, [
    ['one.example:1', del],
    ['one.example:1', put],
    ['three.example:1', { kind: 'put', keygroup: 'log', id: '9', value: 'entry' }],
    ['two.example:1', del],
    ['two.example:1', put],
  ]);
});

test('a failing trigger is logged and neither fails the write nor stops the other triggers', async ({ node }) => {
  await addTrigger(node, 'kv', 'down', 'down.example:1');
  await addTrigger(node, 'kv', 'up', 'up.example:1');
  node.failingHosts.add('down.example:1');
  assert.equal(await node.call('Update', { keygroup: 'kv', id: 'x', data: 'v1' }), { version: { version: { A: '1' } } });
  assert.equal(node.triggerCalls.map((c) => c.host).sort(), ['down.example:1', 'up.example:1']);
  const warning = node.logs.find((l) => l.level === 'warn' && l.fields.host === 'down.example:1');
  assert.ok(warning, 'the failure is logged');
  assert.equal([warning!.fields.keygroup, warning!.fields.id], ['kv', 'x']);
});

test('two trigger ids on one endpoint notify it once per event', async ({ node }) => {
  await addTrigger(node, 'kv', 'a', 'same.example:1');
  await addTrigger(node, 'kv', 'b', 'same.example:1');
  await node.call('Update', { keygroup: 'kv', id: 'x', data: 'v1' });
  assert.is(node.triggerCalls.length, 1);
});

test('a rejected write calls no trigger', async ({ node }) => {
  await addTrigger(node, 'kv', 't', 'h.example:1');
  await node.call('Update', { keygroup: 'kv', id: 'x', data: 'v1' });
  await node.call('Update', { keygroup: 'kv', id: 'x', data: 'v2' });
  await rejects(node.call('Update', { keygroup: 'kv', id: 'x', data: 'stale', versions: [{ version: { A: '1' } }] }), grpc.status.FAILED_PRECONDITION);
  assert.is(node.triggerCalls.length, 2);
});

test('the exported notifier reports replicated writes the same way and survives a broken trigger store', async () => {
  const triggers = new MemoryTriggerStore();
  await triggers.add('kv', { id: 't', host: 'h.example:1' });
  const calls: Array<[string, TriggerEvent]> = [];
  const warnings: object[] = [];
  const notify = createTriggerNotifier({
    triggers,
    callTrigger: (host, event) => {
      calls.push([host, event]);
      throw new Error('thrown synchronously');
    },
    logger: { debug: () => {}, warn: (fields) => warnings.push(fields), error: () => {} },
  });
  await notify('kv', 'x', 'remote value');
  await notify('kv', 'x', undefined);
  await notify('other', 'x', 'nobody listens');
  assert.equal(calls, [
    ['h.example:1', { kind: 'put', keygroup: 'kv', id: 'x', value: 'remote value' }],
    ['h.example:1', { kind: 'delete', keygroup: 'kv', id: 'x' }],
  ]);
  assert.is(warnings.length, 2);

  const errors: object[] = [];
  const broken = createTriggerNotifier({
    triggers: {
      list: () => Promise.reject(new Error('disk gone')),
      add: async () => {},
      remove: async () => false,
      removeKeygroup: async () => {},
    },
    callTrigger: async () => {},
    logger: { debug: () => {}, warn: () => {}, error: (fields) => errors.push(fields) },
  });
  await broken('kv', 'x', 'value');
  assert.is(errors.length, 1);
});

test.run();
