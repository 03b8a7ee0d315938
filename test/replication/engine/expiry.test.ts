// Per-replica expiry: replication never brings an expired item back to a replica in a loop.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { Cluster } from './cluster.js';

/**
 * Advances `seconds` one second at a time, purging expired siblings everywhere (the most
 * resurrection-prone store behaviour), and records for each node the seconds at which `id` was
 * readable there.
 */
async function watch(c: Cluster, id: string, seconds: number): Promise<Record<string, number[]>> {
  const seen: Record<string, number[]> = {};
  for (const n of c.nodes.keys()) seen[n] = [];
  for (let s = 1; s <= seconds; s++) {
    await c.run(1_000);
    for (const node of c.nodes.values()) {
      await node.store.purgeExpired();
      if ((await node.store.read('kv', id)).length > 0) seen[node.id]!.push(s);
    }
  }
  return seen;
}

/** True when the seconds form one unbroken run (visible, then gone for good). */
const oneRun = (seconds: number[]) => seconds.every((s, i) => i === 0 || s === seconds[i - 1]! + 1);

test('a short-expiry replica is not refilled by a replica that keeps the item', async () => {
  const c = await Cluster.start(['A', 'B'], { engine: { antiEntropyIntervalMs: 1_000 } });
  await c.createKeygroup('kv', ['A', 'B'], { expiry: { A: 0, B: 10 } });
  await c.set('A', 'x', 'kept');
  const seen = await watch(c, 'x', 60);
  assert.equal(seen.A!.length, 60);
  assert.equal(seen.B, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // Past B's expiry, the pair compares only what both should hold: digests agree again.
  const report = await c.runUntil(c.node('A').engine.runAntiEntropy());
  assert.equal(report, { exchanges: 1, equal: 1, failed: 0, pulled: 0, pushed: 0 });
  await c.stop();
});

test('expiring replicas that received a write late do not pass it around in a loop', async () => {
  const c = await Cluster.start(['A', 'B', 'C'], { engine: { antiEntropyIntervalMs: 1_000 } });
  await c.createKeygroup('kv', ['A', 'B', 'C'], { expiry: { A: 10, B: 10, C: 10 } });
  c.network.down('C');
  await c.set('A', 'x', 'short', 'kv', 'async');
  await c.run(6_000); // C receives the write 6 s late, from A's outbox
  c.network.up('C');
  const seen = await watch(c, 'x', 90);
  for (const n of ['A', 'B', 'C']) assert.ok(oneRun(seen[n]!), `${n} saw x again: ${seen[n]}`);
  assert.ok(seen.A!.length <= 5 && seen.B!.length <= 5, JSON.stringify(seen));
  // C stores the late copy with its own arrival time (the store stamps merges), so it may show it
  // for up to its full expiry from arrival — once.
  assert.ok(seen.C!.length > 0 && seen.C!.at(-1)! <= 11, JSON.stringify(seen));
  await c.stop();
});

test('writes older than a replica\'s expiry are neither delivered to it nor copied when it joins', async () => {
  const c = await Cluster.start(['A', 'B']);
  await c.createKeygroup('kv', ['A', 'B'], { expiry: { A: 0, B: 30 } });
  await c.set('A', 'old', 'from-the-past');
  await c.run(10);
  c.network.down('B');
  await c.set('A', 'missed', 'while-down', 'kv', 'async');
  await c.run(60_000);
  c.network.up('B');
  await c.run(5_000);
  assert.equal(await c.node('A').outbox.peers(), [], 'outbox drained without delivering');
  assert.equal(await c.node('B').store.read('kv', 'missed'), []);

  // A late replica with a 30 s expiry gets what is younger than 30 s and nothing older.
  await c.set('A', 'fresh', 'new');
  await c.addNode('C');
  c.registry.addReplica('kv', { nodeId: 'C', expiry: 30 });
  await c.run(100);
  assert.is(await c.canonical('C'), 'fresh=v[A:1]new');
  await c.stop();
});

test('a changed expiry in the membership (AddReplica made on another node) applies to the replica', async () => {
  const c = await Cluster.start(['A', 'B']);
  await c.createKeygroup('kv', ['A', 'B']);
  await c.set('A', 'x', 'soon-gone');
  await c.run(10);
  c.registry.addReplica('kv', { nodeId: 'B', expiry: 5 });
  await c.run(10);
  assert.equal(await c.node('B').store.getKeygroup('kv'), { name: 'kv', mutable: true, expiry: 5 });
  assert.equal(await c.node('A').store.getKeygroup('kv'), { name: 'kv', mutable: true, expiry: 0 });
  await c.run(5_000);
  assert.equal(await c.node('B').store.read('kv', 'x'), []);
  assert.is((await c.node('A').store.read('kv', 'x')).length, 1);
  await c.stop();
});

test.run();
