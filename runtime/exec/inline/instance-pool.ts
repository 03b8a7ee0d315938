// The instances of one function version in the inline engine (inline-engine.ts): those idle, how
// many were made, and the calls waiting for one. A call takes an idle instance or has one made (up
// to `instancesPerCode`; beyond that it waits, within the engine's queue limit; a nested call,
// whose caller holds an instance, and a load without a request never wait). A healthy instance
// goes back to a waiting call or to the idle list; one that will not run again is forgotten, and a
// waiting call gets a new one made for it.

import type { Logger } from 'pino';
import { EnokiError } from '../../errors.js';
import type { Job } from '../engine.js';
import { GuestInstance, handlerKind, type Linkable } from './linker.js';
import { MemoryShelf } from '../wasm/memory-shelf.js';

/** Zeroed memories a wasi:http function keeps for its next instances: its spare's and one more. */
const SHELVED_MEMORIES = 2;

/** The weight of a call's loop time in heldMs: about the last ten calls count. */
const HELD_WEIGHT = 0.2;

/** Calls waiting for an instance, over all the engine's pools. */
export class WaitQueue {
  waiting = 0;
  constructor(readonly max: number) {}
}

export interface PoolOptions {
  instancesPerCode: number;
  /** Time a guest runs before it lets other work on the event loop have a turn. */
  sliceMs: number;
  queue: WaitQueue;
  /** Called after an instance was made for a call or as a spare (the engine's memory budget). */
  made: () => void;
  stopped: () => boolean;
  logger: Logger;
}

interface Waiter {
  resolve: (instance: GuestInstance) => void;
  reject: (err: unknown) => void;
}

export interface IdleInstance {
  instance: GuestInstance;
  lastUsed: number;
}

export class InstancePool {
  idle: IdleInstance[] = [];
  /** Instances made and not discarded (idle ones included). */
  count = 0;
  readonly #waiting: Waiter[] = [];
  evicted = false;
  /** The linkable once loaded (for stats and spares). */
  loaded?: Linkable;
  /** A call used up its time slice on the plain stack: the function's calls go through JSPI. */
  outrunsSlices = false;
  /** How long its calls hold the event loop, ms: a moving average over the recent ones (0: none yet). */
  heldMs = 0;

  constructor(
    readonly key: string,
    readonly linkable: Promise<Linkable>,
    readonly memoryLimitPages: number,
    /** templatesVersion() when its code was loaded. */
    readonly version: number,
    /** What it was loaded from, to load it again on a newer template. */
    readonly source: Pick<Job, 'instanceKey' | 'meta' | 'memoryLimitBytes' | 'env'>,
    private readonly options: PoolOptions,
  ) {}

  /** Counts a finished call's time on the event loop into heldMs. */
  held(ms: number): void {
    this.heldMs = this.heldMs === 0 ? ms : this.heldMs + HELD_WEIGHT * (ms - this.heldMs);
  }

  /** No instance is busy and no call waits: the pool can be replaced without anyone noticing. */
  get quiet(): boolean {
    return this.count === this.idle.length && this.#waiting.length === 0;
  }

  /** Zeroed memories of this code's finished wasi:http instances, for its next ones. */
  readonly #memories = new MemoryShelf(SHELVED_MEMORIES);
  #perRequest?: boolean;

  /** The zeroed memories kept for this code's next instances. */
  get shelf(): MemoryShelf {
    return this.#memories;
  }

  /** A new instance of the loaded code, not yet counted. */
  make(linkable: Linkable): GuestInstance {
    this.#perRequest ??= handlerKind(linkable.plan) === 'http';
    return new GuestInstance(linkable, {
      memoryLimitPages: this.memoryLimitPages,
      env: this.source.env,
      sliceMs: this.options.sliceMs,
      memories: this.#perRequest ? this.#memories : undefined,
    });
  }

  /** Makes an instance and keeps it, counted, for a waiting call or as idle; throws when it cannot be made. */
  keepWarm(linkable: Linkable): void {
    const instance = this.make(linkable);
    this.count++;
    this.give(instance);
  }

  async take(job: Pick<Job, 'nested' | 'request'>): Promise<{ instance: GuestInstance; cold: boolean }> {
    const idle = this.idle.pop();
    if (idle) return { instance: idle.instance, cold: false };
    if (this.count < this.options.instancesPerCode || job.nested || !job.request) {
      this.count++;
      try {
        const instance = this.make(await this.linkable);
        this.options.made();
        return { instance, cold: true };
      } catch (err) {
        this.count--;
        throw err;
      }
    }
    const { queue } = this.options;
    if (queue.waiting >= queue.max) throw new EnokiError('ERR_OVERLOADED', `too many invocations waiting (${queue.max})`);
    queue.waiting++;
    try {
      return { instance: await new Promise<GuestInstance>((resolve, reject) => this.#waiting.push({ resolve, reject })), cold: false };
    } finally {
      queue.waiting--;
    }
  }

  /** Returns a healthy instance: to a waiting call, or to the idle list. */
  give(instance: GuestInstance): void {
    if (this.evicted) return;
    const waiter = this.#waiting.shift();
    if (waiter) return waiter.resolve(instance);
    this.idle.push({ instance, lastUsed: performance.now() });
  }

  /**
   * An instance that will not run again (it trapped, was abandoned, or was a wasi:http guest's,
   * which serves one request): a waiting call gets a new one; a wasi:http function gets a spare
   * made once this turn of the loop is over, so that its next request does not wait for one, in
   * the memory this one leaves when it settled.
   */
  retire(instance: GuestInstance, { settled = false }: { settled?: boolean } = {}): void {
    // `settled`: its guest code returned or trapped, so none of it is suspended, waiting to
    // resume and write into its memories.
    if (settled && !this.evicted) for (const memory of instance.memories) this.#memories.give(memory);
    this.#discard();
    if (instance.kind === 'http') setImmediate(() => this.#spare());
  }

  /** Its idle instances go; instances in use are dropped when their calls end. */
  evict(): void {
    this.evicted = true;
    this.count -= this.idle.length;
    this.idle = [];
  }

  /** Calls still waiting are answered that the node is shutting down. */
  stop(): void {
    for (const w of this.#waiting.splice(0)) w.reject(new EnokiError('ERR_SHUTTING_DOWN', 'the node is shutting down'));
  }

  /** Forgets a broken instance; a waiting call gets a new one made for it. */
  #discard(): void {
    this.count--;
    const waiter = this.#waiting.shift();
    if (!waiter) return;
    this.count++;
    this.linkable
      .then((linkable) => waiter.resolve(this.make(linkable)))
      .catch((err: unknown) => {
        this.count--;
        waiter.reject(err);
      });
  }

  /** Makes an idle instance of a wasi:http function that has none. */
  #spare(): void {
    const linkable = this.loaded;
    if (!linkable || this.options.stopped() || this.evicted || this.idle.length > 0 || this.#waiting.length > 0 || this.count >= this.options.instancesPerCode) return;
    try {
      this.keepWarm(linkable);
    } catch (err) {
      // The next request makes its own and reports why it cannot.
      this.options.logger.debug({ instanceKey: this.key, err }, 'a spare instance could not be made');
      return;
    }
    this.options.made();
  }
}
