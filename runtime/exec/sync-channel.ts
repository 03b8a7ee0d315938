// A synchronous call from a worker to the main thread. WIT imports are synchronous while the
// replica is asynchronous, so a guest's KV call blocks its worker on Atomics.wait until the main
// thread has posted the reply and raised the flag; receiveMessageOnPort then takes the reply
// without the worker's event loop.

import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

const IDLE = 0;
const REPLIED = 1;

export interface SyncChannelPair {
  /** Transferred to the worker. */
  workerEnd: { port: MessagePort; flag: SharedArrayBuffer };
  /** Kept by the main thread. */
  hostPort: MessagePort;
  flag: Int32Array;
}

export function createSyncChannel(): SyncChannelPair {
  const { port1, port2 } = new MessageChannel();
  const flag = new SharedArrayBuffer(4);
  return { workerEnd: { port: port2, flag }, hostPort: port1, flag: new Int32Array(flag) };
}

/** Main-thread side: answers each request with handler's result. */
export function serveSyncChannel<Req, Res>(
  pair: SyncChannelPair,
  handler: (request: Req) => Promise<Res>,
): void {
  pair.hostPort.on('message', (request: Req) => {
    handler(request).then(
      (reply) => {
        pair.hostPort.postMessage(reply);
        Atomics.store(pair.flag, 0, REPLIED);
        Atomics.notify(pair.flag, 0);
      },
      // handler must turn its own failures into replies; this is the last resort.
      (err) => {
        pair.hostPort.postMessage({ ok: false, error: { tag: 'unavailable', val: String(err) } });
        Atomics.store(pair.flag, 0, REPLIED);
        Atomics.notify(pair.flag, 0);
      },
    );
  });
}

/** Worker side: a blocking call. */
export function syncCaller<Req, Res>(end: { port: MessagePort; flag: SharedArrayBuffer }): (request: Req) => Res {
  const flag = new Int32Array(end.flag);
  return (request: Req): Res => {
    Atomics.store(flag, 0, IDLE);
    end.port.postMessage(request);
    Atomics.wait(flag, 0, IDLE);
    const received = receiveMessageOnPort(end.port);
    if (!received) throw new Error('sync channel: reply flag raised without a reply');
    return received.message as Res;
  };
}
