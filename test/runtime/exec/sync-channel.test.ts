// The sync channel between a real worker thread and the main thread: blocking calls in a row,
// answered by an async handler, arrive complete and in order.
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSyncChannel, serveSyncChannel } from '../../../runtime/exec/sync-channel.js';

/** Runs the test worker with `requests`, serving them with `handler`; resolves with its replies. */
async function runWorker<Req, Res>(requests: Req[], handler: (request: Req) => Promise<Res>): Promise<unknown[]> {
  const pair = createSyncChannel();
  serveSyncChannel(pair, handler);
  const worker = new Worker(new URL('./sync-channel-worker.js', import.meta.url), {
    workerData: { end: pair.workerEnd, requests },
    transferList: [pair.workerEnd.port],
  });
  try {
    return await new Promise<unknown[]>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before replying`)));
    });
  } finally {
    pair.hostPort.close();
    await worker.terminate();
  }
}

test('a worker gets every answer of many blocking calls in a row, in order', async () => {
  const requests = Array.from({ length: 100 }, (_, i) => i + 1);
  const replies = await runWorker(requests, async (n: number) => {
    await delay(Math.floor(Math.random() * 3));
    return n * 2;
  });
  assert.equal(replies, requests.map((n) => n * 2));
});

test('replies that the handler produces without waiting also arrive', async () => {
  const requests = Array.from({ length: 50 }, (_, i) => ({ op: 'get', args: [`k${i}`] }));
  const replies = await runWorker(requests, async (call: { args: string[] }) => ({ ok: true, value: call.args[0] }));
  assert.equal(replies, requests.map((r) => ({ ok: true, value: r.args[0] })));
});

test('a handler that rejects still unblocks the worker with an unavailable reply', async () => {
  const replies = await runWorker(['fine', 'boom', 'fine again'], async (request: string) => {
    if (request === 'boom') throw new Error('store exploded');
    return { ok: true, value: request };
  });
  assert.equal(replies, [
    { ok: true, value: 'fine' },
    { ok: false, error: { tag: 'unavailable', val: 'Error: store exploded' } },
    { ok: true, value: 'fine again' },
  ]);
});

test.run();
