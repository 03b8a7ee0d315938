// No acknowledged write is ever dropped: a peer that fails for a while (refusing writes, or
// unreachable) and then recovers ends up identical to the writer, with nothing lost, whether the
// outbox delivers, FReD's missed-write records are replayed, or anti-entropy repairs. Also the
// parts of replication that exist for FReD peers: full exchanges with a peer that has no digest
// exchange, a new FReD replica receiving every item from its inviter, and FReD's order of
// removal (DeleteKeygroup before the naming service changes).
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { MemoryMissedWrites } from '../../../replication/engine/membership.js';
import { PeerUnsupportedError, type PeerHandler } from '../../../replication/engine/transport.js';
import { Cluster, v } from './cluster.js';

const test = suite('engine: recovery after peer failures');

/** B's engine behind a handler that refuses every write with an internal error while `failing`. */
function flaky(c: Cluster, id: string): { failing: boolean; refused: number } {
  const state = { failing: true, refused: 0 };
  const engine = c.node(id).engine;
  const handler: PeerHandler = {
    handle: async (from, message) => {
      if (state.failing && (message.type === 'putItem' || message.type === 'appendItem')) {
        state.refused++;
        throw new Error('disk I/O error'); // no code: INTERNAL over gRPC, a rejection to the sender
      }
      return engine.handle(from, message);
    },
    getItem: (from, request) => engine.getItem(from, request),
    getAllItems: (from, request) => engine.getAllItems(from, request),
    exchangeDigest: (from, request) => engine.exchangeDigest(from, request),
  };
  c.network.register(id, handler);
  return state;
}

/** A node that speaks only FReD's peering calls: no digest exchange, never fetches on its own. */
function fredLike(c: Cluster, id: string): void {
  const node = c.node(id);
  c.network.register(id, {
    handle: async (from, message) => {
      if (message.type === 'createKeygroup') {
        const mutable = (await c.registry.view(id).mutable(message.keygroup)) ?? true;
        await node.store.createKeygroup({ name: message.keygroup, mutable, expiry: message.expiry });
        return;
      }
      return node.engine.handle(from, message);
    },
    getItem: (from, request) => node.engine.getItem(from, request),
    getAllItems: (from, request) => node.engine.getAllItems(from, request),
    exchangeDigest: async () => {
      throw new PeerUnsupportedError(id);
    },
  });
}

test('a peer rejecting writes for a while keeps them queued; once it recovers both replicas are identical', async () => {
  const c = await Cluster.start(['A', 'B'], { engine: { maxRejections: 3 } });
  await c.createKeygroup('kv', ['A', 'B']);
  const b = flaky(c, 'B');
  const results = [];
  for (let i = 0; i < 20; i++) results.push((await c.set('A', `k${i}`, v(i))).result);
  await c.run(20_000);
  assert.ok(b.refused >= 3 * 20, `refused ${b.refused}`);
  // Nothing left the outbox: without a missed-write record to hand them to, rejected writes stay.
  assert.is((await c.node('A').outbox.peek('B', 100)).length, 20);
  for (const r of results) assert.equal((await r).pending, ['B']);
  b.failing = false;
  await c.run(60_000);
  await c.assertConverged();
  await c.assertNothingLost();
  assert.equal(await c.node('A').outbox.peers(), []);
  await c.stop();
});

test('with missed-write records, a rejecting peer does not hold back later writes and replays what it missed', async () => {
  const missed = new MemoryMissedWrites();
  const c = await Cluster.start(['A', 'B'], { engine: { maxRejections: 3, missedWrites: missed } });
  await c.createKeygroup('kv', ['A', 'B']);
  const b = flaky(c, 'B');
  for (let i = 0; i < 10; i++) await c.set('A', `k${i}`, v(i));
  await c.run(30_000);
  // Given up after three refusals each and recorded durably for B, as FReD records a miss; B
  // replays each record as it appears (fetching the item from A), so nothing waits for B's
  // PutItem path to recover.
  assert.equal(await c.node('A').outbox.peers(), []);
  assert.equal(await missed.list('B'), []);
  await c.assertConverged();
  b.failing = false;
  // A write after the recovery is delivered at once.
  await c.set('A', 'after', 'x');
  await c.run(100);
  assert.equal((await c.node('B').store.read('kv', 'after')).map((s) => s.value), ['x']);
  await c.assertConverged();
  await c.assertNothingLost();
  await c.stop();
});

test('an unreachable peer gets missed-write records (as FReD writes them) and replays them as soon as they appear', async () => {
  const missed = new MemoryMissedWrites();
  const c = await Cluster.start(['A', 'B'], { engine: { missedWrites: missed } });
  await c.createKeygroup('kv', ['A', 'B']);
  c.network.partition('A', 'B');
  await c.set('A', 'x', 'one');
  await c.set('A', 'y', 'two');
  await c.run(1_000);
  assert.equal((await missed.list('B')).map((m) => m.id), ['x', 'y']);
  // Healed, B replays the records (fetching the items from A) even before A's outbox retries.
  await c.node('A').outbox.ack('B', 1_000_000);
  c.network.heal('A', 'B');
  await missed.report({ node: 'B', keygroup: 'kv', id: 'x' }); // a new record wakes B's replay
  await c.run(5_000);
  assert.equal(await missed.list('B'), []);
  await c.assertConverged();
  await c.assertNothingLost();
  await c.stop();
});

test('anti-entropy with a peer without digest exchange (a FReD node) repairs both ways through its full copy', async () => {
  const c = await Cluster.start(['A', 'B']);
  await c.createKeygroup('kv', ['A', 'B']);
  fredLike(c, 'B');
  // Writes each side holds alone, as after lost deliveries.
  const onA = await c.node('A').store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'a', value: 'from-a' }]);
  const onB = await c.node('B').store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'b', value: 'from-b' }]);
  c.writes.push(...onA, ...onB);
  const done = c.node('A').engine.runAntiEntropy();
  const report = await c.runUntil(done);
  assert.is(report.failed, 0);
  assert.is(report.pulled, 1);
  assert.is(report.pushed, 1);
  await c.assertConverged();
  await c.assertNothingLost();
  await c.stop();
});

test('a new replica that never fetches (a FReD node) holds every item, tombstones included, once inviteReplica returns', async () => {
  const c = await Cluster.start(['A', 'B']);
  await c.createKeygroup('kv', ['A']);
  for (let i = 0; i < 5; i++) await c.set('A', `k${i}`, v(i));
  await c.del('A', 'k2');
  await c.run(100);
  fredLike(c, 'B');
  c.registry.addReplica('kv', { nodeId: 'B', expiry: 0 });
  await c.runUntil(c.node('A').engine.inviteReplica('kv', 'B', 0));
  await c.assertConverged();
  await c.assertNothingLost();
  await c.stop();
});

test("a peer's DeleteKeygroup before the naming change drops the copy; still listed after the grace period, the node rejoins", async () => {
  const c = await Cluster.start(['A', 'B'], { engine: { dropGraceMs: 5_000 } });
  await c.createKeygroup('kv', ['A', 'B']);
  await c.set('A', 'x', 'kept');
  await c.run(100);
  // FReD's order: tell the replica first, then mark it removed in the naming service.
  await c.runUntil(c.network.transport('A').send('B', { type: 'deleteKeygroup', keygroup: 'kv' }));
  assert.is(await c.node('B').store.getKeygroup('kv'), undefined);
  c.registry.removeReplica('kv', 'B');
  await c.run(10_000);
  assert.is(await c.node('B').store.getKeygroup('kv'), undefined, 'removed as announced: stays dropped');

  // A DeleteKeygroup the naming service never follows: the copy comes back, with its data.
  c.registry.addReplica('kv', { nodeId: 'B', expiry: 0 });
  await c.run(1_000);
  assert.equal((await c.node('B').store.read('kv', 'x')).map((s) => s.value), ['kept']);
  await c.runUntil(c.network.transport('A').send('B', { type: 'deleteKeygroup', keygroup: 'kv' }));
  assert.is(await c.node('B').store.getKeygroup('kv'), undefined);
  await c.run(10_000);
  assert.equal((await c.node('B').store.read('kv', 'x')).map((s) => s.value), ['kept']);
  await c.stop();
});

test.run();
