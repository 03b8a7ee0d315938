// MemoryNetwork: the faults it injects behave as tests rely on, deterministically.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { MemoryNetwork, seededRandom } from '../../../replication/engine/memory-transport.js';
import { ManualTimers } from '../../../replication/engine/timers.js';
import { PeerUnavailableError, type PeerHandler, type PeerMessage } from '../../../replication/engine/transport.js';

/** A handler that records what it received. */
function recorder(log: string[], name: string): PeerHandler {
  return {
    handle: async (from, m: PeerMessage) => void log.push(`${name}<-${from}:${'id' in m ? m.id : m.type}`),
    getItem: async () => [],
    getAllItems: async () => [{ id: 'i', value: 'v', version: { A: 1 }, tombstone: false }],
    exchangeDigest: async () => ({ differing: [], items: [] }),
  };
}

const put = (id: string): PeerMessage => ({ type: 'putItem', keygroup: 'kv', id, value: 'v', tombstone: false, version: {} });

async function setup(faults = {}, seed = 1) {
  const timers = new ManualTimers();
  const net = new MemoryNetwork({ timers, random: seededRandom(seed), faults });
  const log: string[] = [];
  for (const n of ['A', 'B', 'C']) net.register(n, recorder(log, n));
  return { timers, net, log, a: net.transport('A') };
}

async function outcome(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'ok',
    (e) => (e instanceof PeerUnavailableError ? `unavailable:${e.peer}` : String(e)),
  );
}

test('partitions and down nodes refuse calls with PeerUnavailableError naming the callee', async () => {
  const { net, a, log } = await setup();
  net.partition('B', 'A');
  assert.is(await outcome(a.send('B', put('1'))), 'unavailable:B');
  assert.is(await outcome(a.send('C', put('2'))), 'ok');
  net.heal('A', 'B');
  net.down('C');
  assert.is(await outcome(a.send('B', put('3'))), 'ok');
  assert.is(await outcome(a.send('C', put('4'))), 'unavailable:C');
  net.up('C');
  assert.is(await outcome(a.send('Z', put('5'))), 'unavailable:Z');
  assert.equal(log, ['C<-A:2', 'B<-A:3']);
});

test('latency reorders messages and a partition cuts calls in flight', async () => {
  const { timers, net, a, log } = await setup({ latency: { min: 0, max: 100 } });
  const calls = ['1', '2', '3', '4', '5', '6'].map((id) => outcome(a.send('B', put(id))));
  await timers.advance(1_000);
  assert.equal((await Promise.all(calls)).every((o) => o === 'ok'), true);
  assert.equal([...log].sort(), ['B<-A:1', 'B<-A:2', 'B<-A:3', 'B<-A:4', 'B<-A:5', 'B<-A:6']);
  assert.not.equal(log, [...log].sort(), 'some messages should arrive out of order');

  const inFlight = outcome(a.send('C', put('late')));
  net.partition('A', 'C');
  await timers.advance(1_000);
  assert.is(await inFlight, 'unavailable:C');
});

test('drops and duplicates follow the seeded random source', async () => {
  const run = async () => {
    const { timers, a, log, net } = await setup({ dropRate: 0.3, duplicateRate: 0.3, latency: { min: 0, max: 10 } }, 9);
    const results = Array.from({ length: 40 }, (_, i) => outcome(a.send('B', put(String(i)))));
    await timers.advance(1_000);
    return { results: await Promise.all(results), log, stats: { ...net.stats } };
  };
  const first = await run();
  assert.equal(await run(), first);
  assert.ok(first.stats.dropped > 0 && first.stats.duplicated > 0, JSON.stringify(first.stats));
  assert.ok(first.results.includes('unavailable:B'));
  // A lost response still delivered the message; a duplicate delivered it twice.
  assert.ok(first.log.length > first.results.filter((r) => r === 'ok').length);
});

test('payloads and results are copied, never shared', async () => {
  const { a, net } = await setup();
  let received: PeerMessage | undefined;
  const items = [{ id: 'i', value: 'v', version: { A: 1 }, tombstone: false }];
  net.register('B', { ...recorder([], 'B'), handle: async (_f, m) => void (received = m), getAllItems: async () => items });
  const message = put('1');
  await a.send('B', message);
  assert.ok(received && received !== message);
  const got = await a.getAllItems('B', { keygroup: 'kv' });
  got[0]!.version.A = 5;
  assert.is(items[0]!.version.A, 1);
});

test.run();
