// The sync channel between a real worker thread and the main thread. Besides well-behaved
// servers, scripted ones force the interleavings that once handed a worker the reply meant for
// its previous call: a wake-up that arrives after the worker has moved on to its next call, a
// spurious wake-up, a duplicate reply, a reply carrying another call's number. Every call must
// still get exactly its own reply.
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { test } from '../../../helpers/suite.js';
import * as assert from 'uvu/assert';
import {
  createSyncChannel,
  postSyncReply,
  serveSyncChannel,
  type SyncChannelPair,
  type SyncRequestEnvelope,
} from '../../../../runtime/exec/worker/sync-channel.js';

interface Outcome {
  replies: unknown[];
  dropped: number;
}

/** Runs the test worker with `requests`; `serve` sets up the main-thread side on the pair. */
async function runWorker(requests: unknown[], serve: (pair: SyncChannelPair) => void): Promise<Outcome> {
  const pair = createSyncChannel();
  serve(pair);
  const worker = new Worker(new URL('./sync-channel-worker.js', import.meta.url), {
    workerData: { end: pair.workerEnd, requests },
    transferList: [pair.workerEnd.port],
  });
  try {
    return await new Promise<Outcome>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before replying`)));
    });
  } finally {
    pair.hostPort.close();
    await worker.terminate();
  }
}

const unavailable = (err: unknown): unknown => ({ ok: false, error: { tag: 'unavailable', val: String(err) } });

/** Serves requests by hand: `script` gets each request envelope in arrival order. */
function scripted(script: (envelope: SyncRequestEnvelope<unknown>, pair: SyncChannelPair) => void) {
  return (pair: SyncChannelPair) => pair.hostPort.on('message', (envelope: SyncRequestEnvelope<unknown>) => script(envelope, pair));
}

/** Wakes the worker without a reply until a waiter was actually woken: proof it was waiting. */
async function wakeWaitingWorker(pair: SyncChannelPair): Promise<void> {
  for (let i = 0; i < 5000; i++) {
    if (Atomics.notify(pair.flag, 0) > 0) return;
    await delay(1);
  }
  throw new Error('the worker never waited');
}

test('a worker gets every answer of many blocking calls in a row, in order', async () => {
  const requests = Array.from({ length: 100 }, (_, i) => i + 1);
  const outcome = await runWorker(requests, (pair) =>
    serveSyncChannel<number, unknown>(pair, async (n: number) => {
      await delay(Math.floor(Math.random() * 3));
      return n * 2;
    }, unavailable),
  );
  assert.equal(outcome, { replies: requests.map((n) => n * 2), dropped: 0 });
});

test('replies that the handler produces without waiting also arrive', async () => {
  const requests = Array.from({ length: 50 }, (_, i) => ({ op: 'get', args: [`k${i}`] }));
  const outcome = await runWorker(requests, (pair) =>
    serveSyncChannel<{ args: string[] }, unknown>(pair, async (call: { args: string[] }) => ({ ok: true, value: call.args[0] }), unavailable),
  );
  assert.equal(outcome.replies, requests.map((r) => ({ ok: true, value: r.args[0] })));
});

test('a handler that rejects still unblocks the worker with the fallback reply', async () => {
  const outcome = await runWorker(['fine', 'boom', 'fine again'], (pair) =>
    serveSyncChannel<string, unknown>(pair, async (request: string) => {
      if (request === 'boom') throw new Error('store exploded');
      return { ok: true, value: request };
    }, unavailable),
  );
  assert.equal(outcome.replies, [
    { ok: true, value: 'fine' },
    { ok: false, error: { tag: 'unavailable', val: 'Error: store exploded' } },
    { ok: true, value: 'fine again' },
  ]);
});

test('a wake-up without a reply of its own never releases a waiting call', async () => {
  // The interleaving that once handed a worker its previous call's reply: the worker is woken
  // (a late wake-up of its previous call, or a spurious one) and even finds the flag raised,
  // while its own reply does not exist yet. It must keep waiting and take its own reply.
  const outcome = await runWorker(['first', 'second', 'third'], scripted((envelope, pair) => {
    void (async () => {
      await wakeWaitingWorker(pair); // proven: a waiter was woken, and there is no reply
      Atomics.add(pair.flag, 0, 1); // the flag raised, still without a reply
      await wakeWaitingWorker(pair); // ... and it went back to waiting, proven again
      await delay(10);
      postSyncReply(pair, { seq: envelope.seq, reply: `reply to ${envelope.request}` });
    })();
  }));
  assert.equal(outcome, { replies: ['reply to first', 'reply to second', 'reply to third'], dropped: 0 });
});

test('a reply with another call number is dropped and counted, and the call waits for its own', async () => {
  const outcome = await runWorker(['a', 'b'], scripted((envelope, pair) => {
    void (async () => {
      postSyncReply(pair, { seq: envelope.seq + 1000, reply: `stray for ${envelope.request}` });
      await delay(10);
      postSyncReply(pair, { seq: envelope.seq, reply: `own ${envelope.request}` });
    })();
  }));
  assert.equal(outcome, { replies: ['own a', 'own b'], dropped: 2 });
});

test('a duplicated reply of a finished call is not taken by the next call', async () => {
  let previous: SyncRequestEnvelope<unknown> | undefined;
  const outcome = await runWorker(['x', 'y', 'z'], scripted((envelope, pair) => {
    // The previous call's reply once more, while this call waits for its own.
    if (previous) postSyncReply(pair, { seq: previous.seq, reply: `duplicate ${previous.request}` });
    previous = envelope;
    setTimeout(() => postSyncReply(pair, { seq: envelope.seq, reply: `own ${envelope.request}` }), 10);
  }));
  assert.equal(outcome, { replies: ['own x', 'own y', 'own z'], dropped: 2 });
});

test('random order of posts, raises and wake-ups never mixes replies up', async () => {
  const requests = Array.from({ length: 200 }, (_, i) => i);
  const outcome = await runWorker(requests, scripted((envelope, pair) => {
    const n = envelope.request as number;
    const answer = () => postSyncReply(pair, { seq: envelope.seq, reply: n * 3 });
    switch (n % 4) {
      case 0: return answer();
      case 1: return void setImmediate(answer);
      case 2: Atomics.notify(pair.flag, 0); return void setTimeout(answer, 1); // spurious first
      default:
        // Raise without waking, then wake later: the worker may or may not have looked already.
        pair.hostPort.postMessage({ seq: envelope.seq, reply: n * 3 });
        Atomics.add(pair.flag, 0, 1);
        return void setTimeout(() => Atomics.notify(pair.flag, 0), 1);
    }
  }));
  assert.equal(outcome, { replies: requests.map((n) => n * 3), dropped: 0 });
});

test.run();
