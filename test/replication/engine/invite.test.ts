// Inviting a replica (FReD's peering CreateKeygroup): the invitation is answered once the new
// replica holds the keygroup's data, so an AddReplica made on another member returns with the
// data readable on the new replica.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { Cluster } from './cluster.js';

test('inviteReplica resolves once the invited node holds a full copy', async () => {
  const c = await Cluster.start(['A', 'B'], { faults: { latency: { min: 5, max: 20 } } });
  await c.createKeygroup('kv', ['A', 'B']);
  for (let i = 0; i < 10; i++) await c.set(i % 2 ? 'A' : 'B', `k${i}`, `v${i}`);
  await c.run(200);
  await c.del('A', 'k4');
  await c.run(200);
  const copy = await c.assertConverged('kv', ['A', 'B']);

  // C starts after the membership change was announced, so only the invitation makes it join
  // (as when the invitation outruns the naming service's watch).
  c.registry.addReplica('kv', { nodeId: 'C', expiry: 0 });
  await c.addNode('C');
  // Fake time advances in 1 ms steps and stops as soon as the invitation is answered: what C
  // holds then is what a client reading right after AddReplica sees.
  await c.runUntil(c.node('A').engine.inviteReplica('kv', 'C', 0), 10_000, 1);
  assert.is(await c.canonical('C'), copy);
  await c.run(1_000);
  await c.stop();
});

test.run();
