// Blocking waits for guests on a worker thread. A wasi:http guest (StarlingMonkey's event loop, a
// Rust executor) waits in wasi:io/poll for timers and for the host's answers to its outgoing
// requests. preview2-shim's pure-JS pollables answer with promises, which only a JSPI host can
// await; a worker runs its guest synchronously, so here a wait is a real one: the worker sleeps
// in Atomics.wait until the next timer is due or the main thread posts an answer on the events
// channel. Streams and the other pollables stay preview2-shim's (the guest's resource types
// must be the classes the import object names).

import { receiveMessageOnPort } from 'node:worker_threads';
import { createSyncChannel, type SyncChannelEnd } from '../sync-channel.js';

/** What this module needs of preview2-shim's browser io.js. */
export interface ShimIo {
  poll: { Pollable: new () => ShimPollable };
  streams: Record<string, unknown>;
  error: Record<string, unknown>;
  pollableCreate(source?: unknown): ShimPollable;
  inputStreamCreate(handler: object): unknown;
  outputStreamCreate(handler: object): unknown;
  ioErrorCreate(message: string): unknown;
}

export interface ShimPollable {
  ready(): boolean;
  block(): unknown;
}

/**
 * Messages the main thread posts to a busy worker (answers to outgoing requests), read without
 * the worker's event loop. The main thread bumps the shared word after each post (sync-channel.ts
 * postSyncReply), so a worker asleep in wait() wakes when one arrives.
 */
export class HostEvents {
  readonly #flag: Int32Array;
  readonly #handlers = new Set<(message: unknown) => void>();

  constructor(private readonly end: SyncChannelEnd) {
    this.#flag = new Int32Array(end.flag);
  }

  /** A channel nobody posts on: waits end by their timeouts only. */
  static none(): HostEvents {
    const pair = createSyncChannel();
    pair.hostPort.close();
    pair.workerEnd.port.unref();
    return new HostEvents(pair.workerEnd);
  }

  /** Receives every message drained from now on. */
  listen(handler: (message: unknown) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** Hands every message that has arrived to the listeners. */
  drain(): void {
    for (let received = receiveMessageOnPort(this.end.port); received; received = receiveMessageOnPort(this.end.port)) {
      const envelope = received.message as { reply?: unknown } | undefined;
      for (const handler of this.#handlers) handler(envelope?.reply);
    }
  }

  /** Read before drain(): wait() then returns at once if a message came after it. */
  generation(): number {
    return Atomics.load(this.#flag, 0);
  }

  /**
   * Sleeps until a message posted after `generation` was read may have arrived, or `timeoutMs`
   * passed (Infinity: no limit).
   */
  wait(generation: number, timeoutMs: number): void {
    Atomics.wait(this.#flag, 0, generation, Number.isFinite(timeoutMs) ? Math.max(0, timeoutMs) : undefined);
  }
}

export interface SyncIo {
  /** Called each time the guest is about to sleep in a wait (set per call). */
  beforeWait?: () => void;
  /** A pollable ready when `ready()` says so; `deadline` (performance.now() ms) wakes a wait. */
  pollable(ready: () => boolean, options?: { deadline?: number; waitsOnHost?: boolean }): ShimPollable;
  /** wasi:io/poll, answering synchronously. */
  pollImports: Record<string, unknown>;
  /** Hands the main thread's messages that have arrived to their listeners, without waiting. */
  drain(): void;
  /** wasi:clocks/monotonic-clock with pollables that block for real. */
  monotonicClock(base: Record<string, unknown>): Record<string, unknown>;
}

export function createSyncIo(io: ShimIo, events: HostEvents): SyncIo {
  const Pollable = io.poll.Pollable;

  class SyncPollable extends Pollable {
    constructor(
      readonly isReady: () => boolean,
      readonly deadline: number | undefined,
      readonly waitsOnHost: boolean,
    ) {
      super();
    }

    override ready(): boolean {
      events.drain();
      return this.isReady();
    }

    override block(): void {
      waitForAny([this]);
    }
  }

  /** Indices of the ready pollables, blocking until there is at least one. */
  function waitForAny(list: ShimPollable[]): Uint32Array {
    if (list.length === 0) throw new Error('poll list must not be empty');
    for (;;) {
      const generation = events.generation();
      events.drain();
      const ready: number[] = [];
      let deadline = Infinity;
      let host = false;
      list.forEach((p, i) => {
        if (p instanceof SyncPollable) {
          if (p.isReady()) ready.push(i);
          else {
            if (p.deadline !== undefined) deadline = Math.min(deadline, p.deadline);
            host ||= p.waitsOnHost;
          }
        } else if (p.ready()) ready.push(i);
      });
      if (ready.length > 0) return Uint32Array.from(ready);
      if (deadline === Infinity && !host) {
        // Nothing in the list can become ready while the guest waits: it would sleep forever.
        throw new Error('the guest waits on pollables that can never become ready');
      }
      syncIo.beforeWait?.();
      events.wait(generation, deadline - performance.now());
    }
  }

  const pollable = (ready: () => boolean, options: { deadline?: number; waitsOnHost?: boolean } = {}) =>
    new SyncPollable(ready, options.deadline, options.waitsOnHost ?? false);

  const timer = (durationNs: bigint) => {
    const deadline = performance.now() + Number(durationNs) / 1e6;
    return pollable(() => performance.now() >= deadline, { deadline });
  };

  const syncIo: SyncIo = {
    pollable,
    drain: () => events.drain(),
    pollImports: {
      Pollable,
      poll: (list: ShimPollable[]) => waitForAny(list),
      pollList: (list: ShimPollable[]) => waitForAny(list),
      pollOne: (p: ShimPollable) => void waitForAny([p]),
    },
    monotonicClock: (base) => ({
      ...base,
      subscribeDuration: (duration: bigint) => timer(duration),
      subscribeInstant: (instant: bigint) => timer(instant - (base.now as () => bigint)()),
    }),
  };
  return syncIo;
}
