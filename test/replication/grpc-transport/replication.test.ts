// Three ReplicationEngines over real gRPC with mTLS: writes, siblings, missed writes after a
// restart at a new address, anti-entropy repair and a receiver briefly unable to read membership
// all work end to end.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { PeerUnavailableError } from '../../../replication/engine/transport.js';
import { failure, GrpcCluster, waitFor } from './harness.js';

const NODES = ['A', 'B', 'C'];

const read = async (c: GrpcCluster, node: string, id: string, keygroup = 'kv') =>
  (await c.node(node).store.read(keygroup, id)).map((s) => [s.value, s.version]);

test('writes on one node reach the others with the same versions', async () => {
  const c = await GrpcCluster.start(NODES);
  try {
    await c.createKeygroup('kv', NODES);
    const { applied, result } = await c.write('A', [{ kind: 'set', keygroup: 'kv', id: 'x', value: 'one' }]);
    assert.equal(result, { acknowledged: ['B', 'C'], pending: [] });
    assert.equal(applied[0]!.sibling.version, { A: 1 });
    for (const n of NODES) assert.equal(await read(c, n, 'x'), [['one', { A: 1 }]], n);

    // An overwrite on another node supersedes it everywhere; a delete travels as a tombstone.
    await c.write('B', [{ kind: 'set', keygroup: 'kv', id: 'x', value: 'two' }]);
    await c.write('C', [{ kind: 'delete', keygroup: 'kv', id: 'x' }]);
    for (const n of NODES) assert.equal(await c.canonical(n), 'x=x[A:1,B:1,C:1]', n);

    // Appends to an immutable keygroup go as AppendItem.
    await c.createKeygroup('log', NODES, false);
    const append = await c.write('C', [{ kind: 'append', keygroup: 'log', id: '7', value: 'entry' }]);
    assert.equal(append.result.pending, []);
    for (const n of NODES) assert.equal(await read(c, n, '7', 'log'), [['entry', {}]], n);
  } finally {
    await c.close();
  }
});

test('concurrent writes leave the same siblings on every node', async () => {
  const c = await GrpcCluster.start(NODES);
  try {
    await c.createKeygroup('kv', NODES);
    // Both writes are applied before either is replicated: neither node has seen the other's.
    const onA = await c.node('A').store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'x', value: 'fromA' }]);
    const onB = await c.node('B').store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'x', value: 'fromB' }]);
    const results = await Promise.all([c.node('A').engine.replicateLocal(onA), c.node('B').engine.replicateLocal(onB)]);
    for (const r of results) assert.equal(r.pending, []);
    const copy = await c.converged();
    assert.is(copy, 'x=v[A:1]fromA|v[B:1]fromB');
    for (const n of NODES) assert.is((await c.node(n).store.read('kv', 'x')).length, 2, n);

    // A write that has seen both siblings supersedes them everywhere.
    await c.write('C', [{ kind: 'set', keygroup: 'kv', id: 'x', value: 'merged' }]);
    for (const n of NODES) assert.equal(await read(c, n, 'x'), [['merged', { A: 1, B: 1, C: 1 }]], n);
  } finally {
    await c.close();
  }
});

test('a node whose server was down gets what it missed from the outbox, at its new address', async () => {
  const c = await GrpcCluster.start(NODES);
  try {
    await c.createKeygroup('kv', NODES);
    await c.stopServer('C');
    const { result } = await c.write('A', [
      { kind: 'set', keygroup: 'kv', id: 'missed', value: 'one' },
      { kind: 'set', keygroup: 'kv', id: 'also', value: 'two' },
    ]);
    assert.equal(result, { acknowledged: ['B'], pending: ['C'] });
    assert.equal(await c.node('C').store.read('kv', 'missed'), []);
    assert.equal(await c.node('A').outbox.peers(), ['C']);

    // Back on another port: the transport resolves the new address and reconnects.
    const before = c.addresses.get('C');
    await c.startServer('C');
    assert.is.not(c.addresses.get('C'), before);
    await waitFor(async () => (await c.node('C').store.read('kv', 'also')).length === 1, 'C to receive the missed writes');
    assert.equal(await read(c, 'C', 'missed'), [['one', { A: 1 }]]);
    await waitFor(async () => (await c.node('A').outbox.peers()).length === 0, "A's outbox to drain");
    await c.converged();
  } finally {
    await c.close();
  }
});

test('anti-entropy over gRPC repairs replicas changed behind the engine\'s back', async () => {
  const c = await GrpcCluster.start(NODES);
  try {
    await c.createKeygroup('kv', NODES);
    for (let i = 0; i < 20; i++) await c.write(['A', 'B', 'C'][i % 3]!, [{ kind: 'set', keygroup: 'kv', id: `k${i}`, value: `v${i}` }]);
    await c.converged();
    // Changes no engine knows about: nothing is queued, only a digest exchange can find them.
    await c.node('B').store.mergeRemote('kv', 'k3', { value: 'sneaky', version: { A: 1, B: 5 }, tombstone: false });
    await c.node('C').store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'onlyC', value: 'hidden' }]);
    await c.node('C').store.applyLocal([{ kind: 'delete', keygroup: 'kv', id: 'k4' }]);
    assert.equal(await c.node('A').outbox.peers(), []);

    const first = await c.node('A').engine.runAntiEntropy('kv');
    assert.is(first.exchanges, 2);
    assert.is(first.failed, 0);
    assert.ok(first.pulled >= 3, JSON.stringify(first));
    // A has everything now; a second round brings B what A pulled from C and vice versa.
    await c.node('A').engine.runAntiEntropy('kv');
    const copy = await c.converged();
    assert.ok(copy.includes('k3=v[A:1,B:5]sneaky'), copy);
    assert.ok(copy.includes('onlyC=v[C:1]hidden'), copy);
    assert.ok(/k4=x\[[^\]]*C:\d[^\]]*\]/.test(copy), copy);

    const again = await c.node('B').engine.runAntiEntropy('kv');
    assert.equal(again, { exchanges: 2, equal: 2, failed: 0, pulled: 0, pushed: 0 });
  } finally {
    await c.close();
  }
});

test('a receiver that cannot read membership for a while answers UNAVAILABLE; the sender keeps every write and delivers it later', async () => {
  let down = false;
  let refused = 0;
  const c = await GrpcCluster.start(['A', 'B'], {
    // A single refusal would drop an entry from A's outbox: only "unavailable" keeps it there.
    tuning: { maxRejections: 1 },
    membership: (id, view) =>
      id !== 'B'
        ? view
        : {
            self: view.self,
            members: async (keygroup) => {
              if (!down) return view.members(keygroup);
              refused++;
              throw new Error('naming service unreachable');
            },
            mutable: (keygroup) => view.mutable(keygroup),
            subscribe: (listener) => view.subscribe(listener),
          },
  });
  try {
    // Down before B hears of the keygroup, so it has no earlier answer to fall back on.
    down = true;
    await c.createKeygroup('kv', ['A', 'B']);
    const probe = await failure(() =>
      c.node('A').transport.send('B', { type: 'putItem', keygroup: 'kv', id: 'probe', value: 'p', tombstone: false, version: { A: 99 } }),
    );
    assert.instance(probe, PeerUnavailableError, probe.message);

    const writes = 5;
    for (let i = 0; i < writes; i++) {
      const { result } = await c.write('A', [{ kind: 'set', keygroup: 'kv', id: `k${i}`, value: `v${i}` }]);
      assert.equal(result, { acknowledged: [], pending: ['B'] });
    }
    // Several delivery attempts of every entry, each refused by B.
    await waitFor(() => refused > 3 * writes, 'B to refuse several delivery rounds');
    assert.is((await c.node('A').outbox.peek('B', 100)).length, writes, 'nothing dropped from the outbox');
    assert.is(await c.canonical('B'), '');

    down = false;
    const copy = await c.converged();
    assert.is(copy.split('\n').length, writes, copy);
    assert.ok(!copy.includes('probe'), copy);
    await waitFor(async () => (await c.node('A').outbox.peers()).length === 0, "A's outbox to drain");
  } finally {
    await c.close();
  }
});

test.run();
