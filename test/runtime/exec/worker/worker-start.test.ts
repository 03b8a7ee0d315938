// Workers start on demand: an idle node runs ENOKI_MIN_WORKERS of them (one by default),
// concurrent calls start more, up to ENOKI_WORKERS, and workers idle for ENOKI_WORKER_IDLE_MS
// stop again. A worker that keeps dying is restarted with a growing wait, not in a tight loop.
import pino from 'pino';
import { test } from '../../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { WorkerPool } from '../../../../runtime/exec/worker/worker-pool.js';
import { guest, startTestNode, type TestNode } from '../../../helpers/test-node.js';

async function workers(n: TestNode): Promise<number> {
  const text = await (await fetch(`${n.url}/metrics`)).text();
  return Number(/^enoki_workers (\d+)/m.exec(text)?.[1]);
}

test('an idle node has one worker; concurrent calls start more, never beyond ENOKI_WORKERS', async () => {
  const n = await startTestNode({ engine: 'worker', workers: 3 });
  try {
    assert.is(await workers(n), 1);
    assert.ok((await n.deploy('misbehave', await guest('fixtures/misbehave.wasm'))).ok);
    assert.is((await n.call('misbehave', { path: '/ok' })).status, 200);
    assert.is(await workers(n), 1, 'calls one after another need no second worker');
    const calls = Array.from({ length: 6 }, () => n.call('misbehave', { path: '/slow?ms=150' }));
    const statuses = await Promise.all(calls.map(async (c) => (await c).status));
    assert.equal(statuses, [200, 200, 200, 200, 200, 200]);
    const after = await workers(n);
    assert.ok(after > 1 && after <= 3, `${after} workers after 6 concurrent calls`);
  } finally {
    await n.close();
  }
});

test('ENOKI_MIN_WORKERS starts that many with the node', async () => {
  const n = await startTestNode({ engine: 'worker', workers: 3, minWorkers: 3 });
  try {
    assert.is(await workers(n), 3);
  } finally {
    await n.close();
  }
});

test('workers idle for ENOKI_WORKER_IDLE_MS stop, down to ENOKI_MIN_WORKERS', async () => {
  const n = await startTestNode({ engine: 'worker', workers: 3, workerIdleMs: 300 });
  try {
    assert.ok((await n.deploy('misbehave', await guest('fixtures/misbehave.wasm'))).ok);
    await Promise.all(Array.from({ length: 6 }, () => n.call('misbehave', { path: '/slow?ms=150' })));
    assert.ok((await workers(n)) > 1);
    let now = await workers(n);
    for (let i = 0; i < 50 && now > 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      now = await workers(n);
    }
    assert.is(now, 1);
    assert.is((await n.call('misbehave', { path: '/ok' })).status, 200, 'the remaining worker serves');
  } finally {
    await n.close();
  }
});

test('a worker that dies at once is restarted with a growing wait', async () => {
  // A worker script that exits as soon as it starts: the pool must not spin restarting it.
  const script = new URL(`data:text/javascript,${encodeURIComponent('process.exit(3)')}`);
  const logger = pino({ level: 'silent' });
  // Count the restarts through the warnings the pool logs with its growing wait.
  const waits: number[] = [];
  logger.warn = ((obj: { waitMs?: number }) => {
    if (obj?.waitMs !== undefined) waits.push(obj.waitMs);
  }) as typeof logger.warn;
  const pool = new WorkerPool({ size: 1, maxQueue: 10, memoryBudgetBytes: 1 << 30, logger, workerScript: script });
  const started = await pool.start().then(
    () => 'started',
    (err: Error) => err.message,
  );
  assert.match(started, /exited with code 3/);
  await new Promise((r) => setTimeout(r, 2500));
  await pool.stop();
  // Tight restarts would be hundreds in 2.5 s; with waits of 100, 200, 400, 800 ms … a handful.
  assert.ok(waits.length >= 2 && waits.length <= 8, `waits: ${waits.join(', ')}`);
  assert.ok(waits.every((w, i) => i === 0 || w >= waits[i - 1]), `waits grow: ${waits.join(', ')}`);
});

test.run();
