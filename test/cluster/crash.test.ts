// A replica killed with SIGKILL and restarted loses nothing: every write acknowledged by the live
// node while it was up, down or starting reaches it (durable outbox, anti-entropy every second).
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { eventually, only, sharedCluster, sleep, type Item } from './harness.js';

const test = suite('cluster: crash and restart');
// edge2 runs as a child process through the CLI; edge1 and cloud in this process.
const cluster = sharedCluster({ inProcess: ['edge1', 'cloud'], antiEntropySeconds: 1 });
test.after(() => cluster.close());

test('after kill -9 and restart, the replica holds every write the live node acknowledged', async () => {
  const c = await cluster.get();
  const edge2 = await c.startProcess('edge2');
  const writer = await c.client('edge1');
  await writer.createKeygroup('journal');
  await writer.update('journal', 'k00000', 'v0');
  await writer.addReplica('journal', 'edge2');
  const reader = await c.client('edge2');
  await eventually(async () => only(await reader.read('journal', 'k00000')), 5_000);

  // One writer on edge1, all the time: a new key per write, and `last` overwritten each time.
  const acknowledged = new Map<string, string>([['k00000', 'v0']]);
  let lastAcknowledged = '';
  let failures = 0;
  let stop = false;
  const load = (async () => {
    for (let i = 1; !stop; i++) {
      const id = `k${String(i).padStart(5, '0')}`;
      try {
        await writer.update('journal', id, `v${i}`);
        acknowledged.set(id, `v${i}`);
        await writer.update('journal', 'last', `v${i}`);
        lastAcknowledged = `v${i}`;
      } catch {
        failures++;
      }
    }
  })();
  const phases: Record<string, number> = {};
  const mark = (phase: string) => (phases[phase] = acknowledged.size);
  await sleep(400);
  mark('before kill');
  await edge2.kill();
  await sleep(600);
  mark('while down');
  await edge2.restart();
  mark('while starting');
  await sleep(400);
  stop = true;
  await load;
  mark('after restart');
  assert.is(failures, 0, 'the live node failed writes while its peer was down');
  assert.ok(phases['while down']! > phases['before kill']! && phases['while starting']! > phases['while down']!, JSON.stringify(phases));

  // Everything acknowledged is on the restarted replica, with the latest value of `last`.
  await eventually(async () => {
    const items = (await reader.call<{ data: Item[] }>('Scan', { keygroup: 'journal', id: 'k00000', count: 1_000_000 })).data;
    const held = new Map(items.map((item) => [item.id, item.val]));
    const lacking = [...acknowledged].filter(([id, val]) => held.get(id) !== val).map(([id]) => id);
    const example = lacking.slice(0, 5).join(', ');
    assert.is(lacking.length, 0, `${lacking.length} of ${acknowledged.size} acknowledged writes missing on edge2, e.g. ${example}`);
    assert.is(held.get('last'), lastAcknowledged);
  }, 15_000, 200);
});

test.run();
