// The idle collector: a node that has gone idle gives back the heap it grew, once per idle period,
// never while it is busy; the collection it asks V8 for does shrink the young generation.
import v8 from 'node:v8';
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { collectAllGarbage, IdleCollector } from '../../../runtime/exec/idle-collector.js';
import { startTestNode } from '../../helpers/test-node.js';

const MiB = 1024 * 1024;

/** A collector over a scripted process: `busy` and `heap` are what the next tick reads. */
function scripted(idleMs: number) {
  const state = { busy: 0, heap: 40 * MiB, collected: 0 };
  const collector = new IdleCollector(
    {
      utilization: () => state.busy,
      heapBytes: () => state.heap,
      collect: async () => {
        state.collected++;
        state.heap = 20 * MiB;
      },
    },
    idleMs,
  );
  return { state, collector };
}

test('collects once the loop has been idle for idleMs, and not again until the heap grows', async () => {
  const { state, collector } = scripted(2000);
  await collector.tick(0);
  await collector.tick(1000);
  assert.is(state.collected, 0, 'idle for 1 s of 2');
  await collector.tick(2000);
  assert.is(state.collected, 1);
  for (let t = 3000; t <= 10_000; t += 1000) await collector.tick(t);
  assert.is(state.collected, 1, 'still idle, nothing grew: no second collection');
  state.heap += 0.5 * MiB;
  await collector.tick(11_000);
  assert.is(state.collected, 1, 'a growth under 1 MiB is not worth a collection');
  state.heap += 1 * MiB;
  await collector.tick(12_000);
  assert.is(state.collected, 2);
  assert.is(collector.collections, 2);
});

test('never collects while the loop is busy, and counts idleness from the end of the activity', async () => {
  const { state, collector } = scripted(2000);
  state.busy = 0.3;
  for (let t = 0; t <= 10_000; t += 1000) await collector.tick(t);
  assert.is(state.collected, 0);
  state.busy = 0.005;
  await collector.tick(11_000);
  await collector.tick(12_000);
  assert.is(state.collected, 0, 'idle for 1 s only');
  state.busy = 0.5;
  await collector.tick(13_000);
  state.busy = 0;
  await collector.tick(14_000);
  await collector.tick(15_000);
  assert.is(state.collected, 0, 'the burst at 13 s restarted the count');
  await collector.tick(16_000);
  assert.is(state.collected, 1);
});

test('a loop a few per cent busy when idle (a slow-waking VM) still counts as idle; one at 10 % never', async () => {
  const { state, collector } = scripted(2000);
  // Idle ticks of a node on such a machine, measured: 0.3–4 % of the loop's time.
  const idle = [0.012, 0.038, 0.009, 0.027, 0.019, 0.043];
  for (let t = 0; t < idle.length; t++) {
    state.busy = idle[t];
    await collector.tick(t * 500);
  }
  assert.is(state.collected, 1);
  const busy = scripted(2000);
  busy.state.busy = 0.1;
  for (let t = 0; t <= 20_000; t += 500) await busy.collector.tick(t);
  assert.is(busy.state.collected, 0);
});

test('the collection shrinks a grown young generation of this process', async () => {
  const youngSize = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
  // Objects that live through a few scavenges make V8 grow the young generation.
  const ring = new Array<number[]>(20_000);
  for (let i = 0; i < 400_000; i++) ring[i % ring.length] = new Array<number>(16).fill(i);
  const grown = youngSize();
  assert.ok(grown > 2 * MiB, `precondition: young generation grown (${grown} bytes)`);
  await collectAllGarbage();
  const after = youngSize();
  assert.ok(after < grown / 2, `young generation ${grown} → ${after} bytes`);
  assert.is(ring[ring.length - 1][0], 399_999, 'what is alive stays');
});

test('a node idle after some requests reports its collection in /metrics', async () => {
  const n = await startTestNode({ idleCollectMs: 200 });
  try {
    const collections = async () => Number(/^enoki_idle_collections_total (\d+)/m.exec(await (await fetch(`${n.url}/metrics`)).text())?.[1]);
    const before = await collections();
    // Enough allocation that the heap has something to give back.
    for (let i = 0; i < 300; i++) await (await fetch(`${n.url}/openapi.json`)).arrayBuffer();
    // Left alone: asking /metrics often would itself keep the loop from looking idle.
    let now = before;
    for (let i = 0; i < 8 && now === before; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      now = await collections();
    }
    assert.ok(now > before, `enoki_idle_collections_total ${before} → ${now}`);
  } finally {
    await n.close();
  }
});

test.run();
