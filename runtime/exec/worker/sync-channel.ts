// A synchronous call from a worker to the main thread. WIT imports are synchronous while the
// replica is asynchronous, so a guest's KV call blocks its worker until the main thread has
// answered; receiveMessageOnPort takes the answer without the worker's event loop.
//
// Correct by construction, whatever the interleaving of the two threads:
// - every request carries a sequence number and its reply echoes it; a reply with any other
//   number is dropped and counted, never returned to the caller;
// - the shared word is a generation counter the main thread bumps after posting each reply (it
//   is never reset), so a wake-up that belongs to an earlier call, or a spurious one, finds no
//   reply of its own on the port and simply waits again;
// - the worker reads the generation before it looks at the port, so a reply posted between the
//   look and the wait moves the generation and the wait returns at once.
// A channel that saw a foreign reply is "in doubt": the pool retires its worker.

import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

/** The request as it travels: `seq` is unique per channel, increasing. */
export interface SyncRequestEnvelope<Req> {
  seq: number;
  request: Req;
}

/** The reply as it travels: `seq` is the request's. */
export interface SyncReplyEnvelope<Res> {
  seq: number;
  reply: Res;
}

export interface SyncChannelEnd {
  port: MessagePort;
  /** One Int32: the generation of replies posted so far. */
  flag: SharedArrayBuffer;
}

export interface SyncChannelPair {
  /** Transferred to the worker. */
  workerEnd: SyncChannelEnd;
  /** Kept by the main thread. */
  hostPort: MessagePort;
  flag: Int32Array;
}

export function createSyncChannel(): SyncChannelPair {
  const { port1, port2 } = new MessageChannel();
  const flag = new SharedArrayBuffer(4);
  return { workerEnd: { port: port2, flag }, hostPort: port1, flag: new Int32Array(flag) };
}

/** Main-thread side: posts one reply and wakes the worker. Post first, then bump: see above. */
export function postSyncReply<Res>(pair: Pick<SyncChannelPair, 'hostPort' | 'flag'>, envelope: SyncReplyEnvelope<Res>): void {
  pair.hostPort.postMessage(envelope);
  Atomics.add(pair.flag, 0, 1);
  Atomics.notify(pair.flag, 0);
}

function isRequestEnvelope(message: unknown): message is SyncRequestEnvelope<unknown> {
  return typeof message === 'object' && message !== null && Number.isSafeInteger((message as { seq?: unknown }).seq);
}

/**
 * Main-thread side: answers each request with handler's result. A message that is not a request
 * envelope cannot be answered (there is no seq to echo): it is reported to onMalformed.
 */
export function serveSyncChannel<Req, Res>(
  pair: SyncChannelPair,
  handler: (request: Req) => Promise<Res>,
  fallback: (err: unknown) => Res,
  onMalformed: () => void = () => undefined,
): void {
  pair.hostPort.on('message', (message: unknown) => {
    if (!isRequestEnvelope(message)) return onMalformed();
    const { seq, request } = message as SyncRequestEnvelope<Req>;
    // handler must turn its own failures into replies; fallback is the last resort.
    handler(request).then(
      (reply) => postSyncReply(pair, { seq, reply }),
      (err: unknown) => postSyncReply(pair, { seq, reply: fallback(err) }),
    );
  });
}

/** Worker side: blocking calls, one at a time. */
export class SyncCaller<Req, Res> {
  readonly #port: MessagePort;
  readonly #flag: Int32Array;
  #seq = 0;
  #dropped = 0;

  constructor(end: SyncChannelEnd) {
    this.#port = end.port;
    this.#flag = new Int32Array(end.flag);
  }

  /** Replies that arrived for another call and were dropped, since the channel was made. */
  get dropped(): number {
    return this.#dropped;
  }

  call(request: Req): Res {
    const seq = ++this.#seq;
    this.#port.postMessage({ seq, request } satisfies SyncRequestEnvelope<Req>);
    for (;;) {
      const generation = Atomics.load(this.#flag, 0);
      const received = receiveMessageOnPort(this.#port);
      if (received) {
        const envelope = received.message as SyncReplyEnvelope<Res> | undefined;
        if (envelope?.seq === seq) return envelope.reply;
        this.#dropped++;
        continue;
      }
      // Returns when the generation moves on, or spuriously: either way, look at the port again.
      Atomics.wait(this.#flag, 0, generation);
    }
  }
}
