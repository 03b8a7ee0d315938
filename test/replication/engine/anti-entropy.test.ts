// Anti-entropy: replicas that diverged past what the outbox covers converge by digest exchange.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { MemoryOutbox } from '../../../replication/engine/outbox.js';
import { PeerUnsupportedError, type DigestResponse, type PeerHandler } from '../../../replication/engine/transport.js';
import { Cluster, v } from './cluster.js';

/** Wraps a node's handler to record the digest responses it sends. */
function recordDigests(c: Cluster, id: string): DigestResponse[] {
  const seen: DigestResponse[] = [];
  const engine = c.node(id).engine;
  const handler: PeerHandler = {
    handle: (from, m) => engine.handle(from, m),
    getItem: (from, r) => engine.getItem(from, r),
    getAllItems: (from, r) => engine.getAllItems(from, r),
    exchangeDigest: async (from, r) => {
      const response = await engine.exchangeDigest(from, r);
      seen.push(response);
      return response;
    },
  };
  c.network.register(id, handler);
  return seen;
}

test('a replica whose outbox was lost converges by anti-entropy, in both directions', async () => {
  const c = await Cluster.start(['A', 'B', 'C']);
  await c.createKeygroup('kv', ['A', 'B', 'C']);
  await c.set('A', 'shared', 'one');
  await c.run(10);
  c.network.isolate('A', ['B', 'C']);
  for (let i = 0; i < 30; i++) await c.set('A', `a${i}`, v(i), 'kv', 'async');
  await c.del('A', 'shared', 'kv', 'async');
  for (let i = 0; i < 10; i++) await c.set('B', `b${i}`, v(i), 'kv', 'async');
  await c.run(10);
  // A and B crash and come back with empty outboxes: their writes are nowhere else.
  await c.restart('A', { outbox: new MemoryOutbox() });
  await c.restart('B', { outbox: new MemoryOutbox() });
  c.network.heal();
  await c.run(5_000);
  assert.not.equal(await c.canonical('A'), await c.canonical('B'));

  // One round initiated by B alone repairs both: B pulls A's writes and pushes its own to A.
  const report = await c.runUntil(c.node('B').engine.runAntiEntropy());
  assert.ok(report.pulled >= 31 && report.pushed >= 10, JSON.stringify(report));
  await c.run(100);
  await c.assertConverged('kv', ['A', 'B']);
  await c.antiEntropy(1);
  await c.assertConverged();
  await c.assertNothingLost();
  assert.equal(await c.node('C').store.read('kv', 'shared'), []);

  // Idempotent: another round finds nothing to do.
  const again = await c.runUntil(c.node('C').engine.runAntiEntropy());
  assert.equal(again, { exchanges: 2, equal: 2, failed: 0, pulled: 0, pushed: 0 });
  await c.stop();
});

test('equal replicas exchange only bucket hashes', async () => {
  const c = await Cluster.start(['A', 'B']);
  await c.createKeygroup('kv', ['A', 'B']);
  for (let i = 0; i < 500; i++) await c.set(i % 2 ? 'A' : 'B', `k${i}`, v(i), 'kv', 'async');
  await c.run(100);
  await c.assertConverged();
  const responses = recordDigests(c, 'B');
  const report = await c.runUntil(c.node('A').engine.runAntiEntropy());
  assert.equal(report, { exchanges: 1, equal: 1, failed: 0, pulled: 0, pushed: 0 });
  assert.equal(responses, [{ differing: [], items: [] }]);

  // One changed item: exactly one bucket differs and only its items travel.
  await c.node('B').store.mergeRemote('kv', 'k7', { value: 'sneaky', version: { A: 9 }, tombstone: false });
  await c.runUntil(c.node('A').engine.runAntiEntropy());
  const last = responses[responses.length - 1]!;
  assert.is(last.differing.length, 1);
  assert.ok(last.items.length < 500 / 8, `${last.items.length} items sent`);
  assert.equal((await c.node('A').store.read('kv', 'k7')).map((s) => s.value), ['sneaky']);
  await c.stop();
});

test('more differing buckets than one exchange repairs converge over several rounds', async () => {
  const c = await Cluster.start(['A', 'B'], { engine: { maxDigestBuckets: 2 } });
  await c.createKeygroup('kv', ['A', 'B']);
  c.network.partition('A', 'B');
  for (let i = 0; i < 200; i++) await c.set('A', `k${i}`, v(i), 'kv', 'async');
  await c.restart('A', { outbox: new MemoryOutbox(), tuning: { maxDigestBuckets: 2 } });
  c.network.heal();
  let rounds = 0;
  while ((await c.canonical('A')) !== (await c.canonical('B')) && rounds < 100) {
    await c.antiEntropy(1, ['B']);
    rounds++;
  }
  assert.ok(rounds > 1 && rounds < 100, `${rounds} rounds`);
  await c.assertNothingLost();
  await c.stop();
});

test('periodic rounds repair divergence without anyone asking', async () => {
  const c = await Cluster.start(['A', 'B', 'C'], { engine: { antiEntropyIntervalMs: 1_000 } });
  await c.createKeygroup('kv', ['A', 'B', 'C']);
  // Writes that bypass replication entirely (as if every outbox were lost).
  await c.node('A').store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'a', value: 'onlyA' }]);
  await c.node('C').store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'c', value: 'onlyC' }]);
  await c.run(2_000);
  const copy = await c.assertConverged();
  assert.is(copy, 'a=v[A:1]onlyA\nc=v[C:1]onlyC');
  await c.stop();
});

test('a peer that does not speak the digest protocol is skipped, not retried in a loop', async () => {
  const c = await Cluster.start(['A', 'B']);
  await c.createKeygroup('kv', ['A', 'B']);
  const engine = c.node('B').engine;
  c.network.register('B', {
    handle: (from, m) => engine.handle(from, m),
    getItem: (from, r) => engine.getItem(from, r),
    getAllItems: (from, r) => engine.getAllItems(from, r),
    exchangeDigest: async () => {
      throw Object.assign(new Error('unknown service'), { code: 'UNIMPLEMENTED' });
    },
  });
  const report = await c.runUntil(c.node('A').engine.runAntiEntropy());
  assert.equal(report, { exchanges: 1, equal: 0, failed: 1, pulled: 0, pushed: 0 });
  await c.stop();
});

test('a member without the digest exchange (a FReD node) is asked once a round and repaired through its full copy', async () => {
  const c = await Cluster.start(['A', 'B', 'C'], { engine: { antiEntropyIntervalMs: 1_000 } });
  await c.createKeygroup('kv', ['A', 'B', 'C']);
  const fred = c.node('B').engine;
  let asked = 0;
  c.network.register('B', {
    handle: (from, m) => fred.handle(from, m),
    getItem: (from, r) => fred.getItem(from, r),
    getAllItems: (from, r) => fred.getAllItems(from, r),
    exchangeDigest: async () => {
      asked++;
      throw new PeerUnsupportedError('B');
    },
  });
  // A diverges from B and C behind the outbox's back; only anti-entropy can repair it: a digest
  // exchange with C, a full exchange (FReD's GetAllItems, then PutItem) with B.
  await c.node('A').store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'a', value: 'onlyA' }]);
  const report = await c.runUntil(c.node('A').engine.runAntiEntropy());
  assert.equal(report, { exchanges: 2, equal: 0, failed: 0, pulled: 0, pushed: 2 });
  assert.is(asked, 1, 'asked once in the round, not retried within it');
  await c.run(10_500);
  // Periodic rounds on A and C: one question per round each, never a tight loop.
  assert.ok(asked >= 10 && asked <= 40, `asked ${asked} times in ~10 rounds of two nodes`);
  await c.assertConverged('kv', ['A', 'B', 'C']);
  // Writes still reach the FReD node through the outbox.
  await c.set('A', 'x', 'to FReD');
  await c.run(10);
  assert.equal((await c.node('B').store.read('kv', 'x')).map((s) => s.value), ['to FReD']);
  await c.stop();
});

test.run();
