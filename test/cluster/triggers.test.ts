// Triggers: the node that received AddTrigger reports every put and delete in the keygroup, its
// own and replicated ones, to the trigger endpoint (FReD's TriggerNode service over TLS), as a
// FReD node reports them.
import * as grpc from '@grpc/grpc-js';
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { eventually, only, rejects, sharedCluster, sleep } from './harness.js';

const test = suite('cluster: triggers');
const cluster = sharedCluster();
test.after(() => cluster.close());

test('a trigger added on edge1 hears of puts and deletes made on edge1 and replicated from edge2', async () => {
  const c = await cluster.get();
  const endpoint = await c.triggerEndpoint();
  const [edge1, edge2] = [await c.client('edge1'), await c.client('edge2')];
  await edge1.createKeygroup('watched');
  await edge1.update('watched', 'seed', 'before');
  await edge1.addReplica('watched', 'edge2');
  await eventually(async () => only(await edge2.read('watched', 'seed')), 2_000);

  await edge1.call('AddTrigger', { keygroup: 'watched', triggerId: 'audit', triggerHost: endpoint.host });
  const listed = await edge1.call('GetKeygroupTriggers', { keygroup: 'watched' });
  assert.equal(listed, { triggers: [{ id: 'audit', host: endpoint.host }] });
  // Triggers belong to the node that received AddTrigger.
  assert.equal(await edge2.call('GetKeygroupTriggers', { keygroup: 'watched' }), { triggers: [] });

  // edge1 calls the trigger before it answers its own writes.
  await edge1.update('watched', 'a', 'one');
  assert.equal(endpoint.events, [{ kind: 'put', keygroup: 'watched', id: 'a', val: 'one' }]);
  await edge1.delete('watched', 'a');
  assert.equal(endpoint.events.at(-1), { kind: 'delete', keygroup: 'watched', id: 'a' });

  // Writes made on edge2 reach the trigger through edge1, once each; a replicated delete is
  // reported as FReD reports it: an update with an empty value.
  await edge2.update('watched', 'b', 'two');
  await edge2.delete('watched', 'seed');
  await eventually(() => assert.is(endpoint.events.length, 4), 2_000);
  assert.equal(endpoint.events.slice(2), [
    { kind: 'put', keygroup: 'watched', id: 'b', val: 'two' },
    { kind: 'put', keygroup: 'watched', id: 'seed', val: '' },
  ]);

  await edge1.call('RemoveTrigger', { keygroup: 'watched', triggerId: 'audit' });
  await rejects(edge1.call('RemoveTrigger', { keygroup: 'watched', triggerId: 'audit' }), grpc.status.NOT_FOUND);
  await edge1.update('watched', 'c', 'unheard');
  await edge2.update('watched', 'd', 'unheard');
  await sleep(200);
  assert.is(endpoint.events.length, 4, JSON.stringify(endpoint.events));
});

test.run();
