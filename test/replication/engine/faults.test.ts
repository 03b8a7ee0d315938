// Convergence under network faults, repaired by the outbox alone (anti-entropy is off here).
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { ReplicationEngine } from '../../../replication/engine/engine.js';
import { Cluster, v } from './cluster.js';

const NODES = ['A', 'B', 'C', 'D', 'E'];

/** A seeded mix of sets and deletes from every node; deletes only of ids the node can see. */
async function randomWrites(c: Cluster, count: number, ids: number, nodes = NODES): Promise<void> {
  for (let i = 0; i < count; i++) {
    const node = nodes[Math.floor(c.random() * nodes.length)]!;
    const id = `k${Math.floor(c.random() * ids)}`;
    const live = await c.node(node).store.read('kv', id);
    if (live.length > 0 && c.random() < 0.25) await c.del(node, id);
    else await c.set(node, id, v(i));
    await c.run(Math.floor(c.random() * 5));
  }
}

test('partitions and heal: every side keeps writing, all replicas converge afterwards', async () => {
  const c = await Cluster.start(NODES, { seed: 7, faults: { latency: { min: 1, max: 10 } } });
  await c.createKeygroup('kv', NODES);
  await randomWrites(c, 20, 8);
  // Split {A,B} | {C,D,E}, write on both sides, then cut E off from everyone as well.
  for (const a of ['A', 'B']) for (const b of ['C', 'D', 'E']) c.network.partition(a, b);
  await randomWrites(c, 40, 8);
  c.network.isolate('E', NODES);
  await randomWrites(c, 30, 8);
  const before = await Promise.all(NODES.map((n) => c.canonical(n)));
  assert.ok(new Set(before).size > 1, 'the partition should have made replicas diverge');
  c.network.heal();
  await c.run(10_000);
  await c.assertConverged();
  await c.assertNothingLost();
  await c.stop();
});

test('lost, duplicated and reordered messages: converge with nothing lost', async () => {
  const c = await Cluster.start(NODES, {
    seed: 42,
    faults: { dropRate: 0.2, duplicateRate: 0.2, latency: { min: 0, max: 40 } },
  });
  await c.createKeygroup('kv', NODES);
  await randomWrites(c, 150, 12);
  await c.run(30_000);
  assert.ok(c.network.stats.dropped > 20, `dropped ${c.network.stats.dropped}`);
  assert.ok(c.network.stats.duplicated > 20, `duplicated ${c.network.stats.duplicated}`);
  await c.assertConverged();
  await c.assertNothingLost();
  for (const n of NODES) assert.equal(await c.node(n).outbox.peers(), [], `${n} outbox drained`);
  await c.stop();
});

test('the same seed gives the same run', async () => {
  const run = async () => {
    const c = await Cluster.start(['A', 'B', 'C'], { seed: 3, faults: { dropRate: 0.3, latency: { min: 0, max: 30 } } });
    await c.createKeygroup('kv', ['A', 'B', 'C']);
    await randomWrites(c, 30, 5, ['A', 'B', 'C']);
    await c.run(20_000);
    await c.stop();
    return { stats: { ...c.network.stats }, copy: await c.assertConverged() };
  };
  assert.equal(await run(), await run());
});

test('a peer down for a while receives everything when it returns, without a restart', async () => {
  const c = await Cluster.start(['A', 'B', 'C'], { engine: { retry: { baseMs: 100, maxMs: 5_000 } } });
  await c.createKeygroup('kv', ['A', 'B', 'C']);
  await c.set('A', 'x', 'before');
  await c.run(10);
  c.network.down('C');
  for (let i = 0; i < 100; i++) await c.set(i % 2 ? 'A' : 'B', `k${i}`, v(i), 'kv', 'async');
  await c.del('A', 'x', 'kv', 'async');
  await c.run(60_000); // a minute of retries against a dead peer
  assert.is((await c.canonical('C')).split('\n').length, 1);
  assert.ok((await c.node('A').outbox.peek('C', 100)).length > 0);
  c.network.up('C');
  await c.run(6_000); // at most one maximal backoff
  await c.assertConverged();
  await c.assertNothingLost();
  assert.equal(await c.node('A').store.read('kv', 'x'), []);
  assert.equal(await c.node('A').outbox.peers(), []);
  await c.stop();
});

test('writes queued in the outbox are delivered by a restarted engine', async () => {
  const c = await Cluster.start(['A', 'B']);
  await c.createKeygroup('kv', ['A', 'B']);
  c.network.down('B');
  await c.set('A', 'x', 'queued', 'kv', 'async');
  await c.run(10);
  await c.node('A').engine.stop();
  c.network.up('B');
  await c.run(1_000);
  assert.equal(await c.node('B').store.read('kv', 'x'), []);
  await c.restart('A');
  await c.run(10);
  assert.equal((await c.node('B').store.read('kv', 'x')).map((s) => s.value), ['queued']);
  await c.stop();
});

test('a receiver that cannot read membership makes senders retry, not drop the write', async () => {
  // A single refusal would drop an entry from A's outbox: only "unavailable" keeps it there.
  const c = await Cluster.start(['A', 'B'], { engine: { maxRejections: 1 } });
  // B's engine again, on a membership that fails while `down`.
  let down = true;
  let refused = 0;
  const b = c.node('B');
  await b.engine.stop();
  const view = c.registry.view('B');
  b.engine = new ReplicationEngine({
    store: b.store,
    outbox: b.outbox,
    transport: c.network.transport('B'),
    membership: {
      self: 'B',
      members: async (keygroup) => {
        if (!down) return view.members(keygroup);
        refused++;
        throw new Error('naming service unreachable');
      },
      mutable: (keygroup) => view.mutable(keygroup),
      subscribe: (listener) => view.subscribe(listener),
    },
    timers: c.timers,
    random: c.random,
    antiEntropyIntervalMs: 0,
  });
  c.network.register('B', b.engine);
  await b.engine.start();
  // Down before B hears of the keygroup, so it has no earlier answer to fall back on.
  await c.createKeygroup('kv', ['A', 'B']);
  await c.set('A', 'x', 'one', 'kv', 'async');
  await c.set('A', 'y', 'two', 'kv', 'async');
  await c.run(10_000);
  assert.ok(refused > 6, `refused ${refused} deliveries`);
  assert.is((await c.node('A').outbox.peek('B', 100)).length, 2, 'nothing dropped from the outbox');
  down = false;
  await c.run(3_000);
  await c.assertConverged();
  await c.assertNothingLost();
  assert.equal(await c.node('A').outbox.peers(), []);
  await c.stop();
});

test.run();
