// Runs guest calls on a fixed set of worker threads. Each worker keeps warm instances of the
// function versions it has run (one call in flight per worker, so per instance); calls prefer a
// worker that is warm for their code. A call past its timeout terminates its worker (the only way
// to stop a wasm loop) and a fresh worker takes the slot. Warm instances' linear memory is kept
// under a budget by evicting the least recently used.
//
// Calls between functions: a guest waiting for a callee blocks its worker. Jobs marked `nested`
// (a callee someone waits for) go before other jobs and may start extra workers, up to
// `callWorkers` beyond `size`, when every worker is taken; other jobs never occupy more than
// `size` workers. So a chain of calls always finds a worker for its next callee until the extra
// workers are used up, and when every worker is a caller waiting on a queued callee, those
// callees are refused (ERR_OVERLOADED) instead of waiting forever. Extra workers stay for later
// calls.
//
// A call whose code is warm only on busy workers does not take an idle cold worker at once:
// that worker (or a new one) loads an instance in the background while the call waits, and the
// call runs on whichever is free and warm first, so it pays min(the wait, the load) rather than
// a cold start every time it spreads to another worker.

import type { Logger } from 'pino';
import { EnokiError } from '../../errors.js';
import { LOAD_TIMEOUT_MS, type EngineStats, type GuestEngine, type Job, type JobResult } from '../engine.js';
import type { EventAnswer, FromWorker, LoadSpec } from '../protocol.js';
import { HeldBodyOverflow } from '../wasi-http/held-body.js';
import { postSyncReply, type SyncChannelPair } from './sync-channel.js';
import { spawnSlot, type Pending, type Slot } from './worker-slot.js';
import { CrashBackoff } from './crash-backoff.js';
import { answered, invokeMessage, unanswered } from './job-messages.js';
import { evictSlotsOverBudget, leastWarm, nextIndex, warmIdle, warmOnBusy } from './placement.js';

export interface WorkerPoolOptions {
  size: number;
  /** A worker idle this long is stopped, down to minWorkers (default: never). */
  idleMs?: number;
  /** The worker's script (tests give a misbehaving one); default: guest-worker.js. */
  workerScript?: URL;
  /** Workers started with the pool (default 1); the rest start when calls need them. */
  minWorkers?: number;
  maxQueue: number;
  memoryBudgetBytes: number;
  logger: Logger;
  /** Workers that may be started beyond `size` for nested calls (default 0). */
  callWorkers?: number;
}

export class WorkerPool implements GuestEngine {
  readonly #slots: Slot[] = [];
  readonly #queue: Pending[] = [];
  #nextId = 1;
  #nextSlotId = 1;
  #stopped = false;
  #channelFaults = 0;
  /** Crashes in a row of workers that died young, and when the next may start. */
  readonly #backoff = new CrashBackoff();
  #respawnTimer?: NodeJS.Timeout;
  #idleTimer?: NodeJS.Timeout;

  constructor(private readonly options: WorkerPoolOptions) {}

  /** Starts minWorkers workers; the others start when calls need them (an idle node stays small). */
  async start(): Promise<void> {
    for (let i = 0; i < this.#minWorkers; i++) this.#slots.push(this.#spawn());
    await Promise.all(this.#slots.map((s) => s.ready));
    const idleMs = this.options.idleMs;
    if (idleMs !== undefined && idleMs > 0) {
      this.#idleTimer = setInterval(() => this.#stopIdle(idleMs), Math.max(100, Math.min(idleMs / 4, 10_000)));
      this.#idleTimer.unref();
    }
  }

  get #minWorkers(): number {
    return Math.max(1, Math.min(this.options.minWorkers ?? 1, this.options.size));
  }

  /** Stops workers idle for idleMs, oldest idle first, keeping minWorkers. */
  #stopIdle(idleMs: number): void {
    const now = performance.now();
    const idle = this.#slots.filter((s) => !s.running && now - s.idleSince >= idleMs).sort((a, b) => a.idleSince - b.idleSince);
    for (const slot of idle) {
      if (this.#slots.length <= this.#minWorkers) return;
      this.#slots.splice(this.#slots.indexOf(slot), 1);
      void slot.worker.terminate();
      this.options.logger.debug({ worker: slot.id, workers: this.#slots.length }, 'stopped an idle worker');
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#idleTimer);
    clearTimeout(this.#respawnTimer);
    for (const pending of this.#queue.splice(0)) {
      pending.resolve(unanswered('crash', 'the node is shutting down', performance.now() - pending.enqueuedAt));
    }
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  run(job: Job): Promise<JobResult> {
    if (this.#stopped) return Promise.reject(new EnokiError('ERR_SHUTTING_DOWN', 'the node is shutting down'));
    if (this.#queue.length >= this.options.maxQueue) {
      return Promise.reject(new EnokiError('ERR_OVERLOADED', `too many invocations waiting (${this.options.maxQueue})`));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ job, enqueuedAt: performance.now(), resolve, reject });
      this.#pump();
    });
  }

  /**
   * Loads a warm instance of the job's code on an idle worker, unless one exists. Prewarming waits
   * behind invocations in the queue and never makes the queue overflow; resolves false when it
   * was not done (no room, or the load failed).
   */
  async prewarm(job: Omit<Job, 'request'>): Promise<boolean> {
    if (this.#stopped || this.#queue.length >= this.options.maxQueue) return false;
    if (this.#slots.some((s) => s.warm.has(job.instanceKey))) return true;
    const result = await new Promise<JobResult | undefined>((resolve) => {
      this.#queue.push({ job, enqueuedAt: performance.now(), resolve, reject: () => resolve(undefined) });
      this.#pump();
    });
    return result !== undefined && !result.failure;
  }

  /**
   * Whether a call of this function version would start at once: 'warm' when a worker holds an
   * instance of it (the call runs there, or on whichever warm worker is free first), 'cold' when
   * there is room but no worker has loaded it, 'full' when calls already wait or every worker
   * runs one.
   */
  room(instanceKey: string): 'warm' | 'cold' | 'full' {
    if (this.#stopped || this.#queue.length > 0) return 'full';
    let outer = 0;
    for (const s of this.#slots) if (s.running && !s.running.job.nested) outer++;
    if (outer >= this.options.size) return 'full';
    return this.#slots.some((s) => s.warm.has(instanceKey)) ? 'warm' : 'cold';
  }

  /** Drops warm instances of code that will not run again (an old version, a deleted function). */
  evict(instanceKey: string): void {
    for (const slot of this.#slots) {
      // A call of that code still running re-adds nothing when it finishes.
      if (slot.running?.job.instanceKey === instanceKey) slot.running.evicted = true;
      if (slot.warm.delete(instanceKey) || slot.running?.evicted) slot.worker.postMessage({ type: 'evict', instanceKey });
    }
  }

  stats(): EngineStats {
    let warmInstances = 0;
    let warmMemoryBytes = 0;
    for (const slot of this.#slots) {
      warmInstances += slot.warm.size;
      for (const w of slot.warm.values()) warmMemoryBytes += w.memoryBytes;
    }
    return {
      workers: this.#slots.length,
      busy: this.#slots.filter((s) => s.running).length,
      queued: this.#queue.length,
      warmInstances,
      warmMemoryBytes,
      channelFaults: this.#channelFaults,
      // Each worker compiles its own; they are not counted here.
      compiledModules: 0,
      warmedEngines: 0,
    };
  }

  /** Counts a channel fault and marks the worker for retirement (at once when it is idle). */
  #channelFault(slot: Slot, reason: string): void {
    if (!this.#slots.includes(slot)) return;
    this.#channelFaults++;
    this.options.logger.warn({ worker: slot.id, reason }, 'host-call channel fault: retiring the worker');
    slot.inDoubt = true;
    if (!slot.running) this.#replace(slot, reason);
  }

  #spawn(): Slot {
    return spawnSlot(this.#nextSlotId++, this.options.workerScript, {
      finish: (slot, message) => this.#finish(slot, message),
      event: (slot, message, events) => this.#event(slot, message, events),
      fault: (slot, reason) => this.#channelFault(slot, reason),
      died: (slot, reason) => {
        if (!this.#stopped && this.#slots.includes(slot)) this.#replace(slot, reason);
      },
    });
  }

  /**
   * Replaces a slot's worker after a timeout, a crash or a response the host gave up on (a held
   * body past its limit), failing the call it was running; a crash counts towards the restart
   * backoff (crash-backoff.ts). The others are the guest's doing: no wait.
   */
  #replace(slot: Slot, reason: string, failure: 'timeout' | 'crash' | 'bad-response' = 'crash'): void {
    const at = this.#slots.indexOf(slot);
    if (at < 0) return;
    const running = slot.running;
    slot.running = undefined;
    if (running) {
      clearTimeout(running.timer);
      running.resolve(unanswered(failure, reason, performance.now() - running.enqueuedAt));
    }
    void slot.worker.terminate();
    this.#slots.splice(at, 1);
    if (this.#stopped) return;
    const wait = failure === 'crash' ? this.#backoff.crashed(slot.startedAt) : 0;
    if (wait > 0) {
      this.options.logger.warn({ worker: slot.id, reason, crashes: this.#backoff.streak, waitMs: wait }, 'worker keeps dying: waiting before the next start');
    }
    this.#refill();
  }

  /** Keeps minWorkers running (after the crash backoff), then serves the queue. */
  #refill(): void {
    if (this.#stopped) return;
    const wait = this.#backoff.remaining();
    if (wait > 0) {
      clearTimeout(this.#respawnTimer);
      this.#respawnTimer = setTimeout(() => this.#refill(), wait);
      this.#respawnTimer.unref();
      return;
    }
    while (this.#slots.length < this.#minWorkers) this.#add();
    this.#pump();
  }

  #add(): Slot {
    const slot = this.#spawn();
    this.#slots.push(slot);
    slot.ready.then(
      () => this.#pump(),
      (err: unknown) => {
        this.options.logger.error({ err, worker: slot.id }, 'worker failed to start');
        this.#replace(slot, `the worker failed to start: ${(err as Error).message}`);
      },
    );
    return slot;
  }

  #pump(): void {
    // Calls waiting for a warm worker in this round; the ones behind them may go first.
    const waiting = new Set<Pending>();
    for (;;) {
      const index = nextIndex(this.#queue, this.#slots, this.options.size, waiting);
      if (index < 0) return;
      const next = this.#queue[index];
      const idle = this.#slots.filter((s) => !s.running);
      const warm = warmIdle(idle, next.job);
      if (!warm && this.#warmsElsewhere(next, idle)) {
        waiting.add(next);
        continue;
      }
      if (idle.length === 0) {
        if (this.#grow(next.job.nested === true)) continue;
        if (next.job.nested) this.#refuseStuckCalls();
        return;
      }
      const slot = warm ?? leastWarm(idle);
      this.#queue.splice(index, 1);
      this.#dispatch(slot, next);
      if (next.job.meta.world !== undefined && next.job.request) this.#spreadWarmth(next.job);
    }
  }

  /**
   * A standard-world guest makes a fresh instance after every call, which keeps its worker busy
   * for a while after it answered: calls are spread over warm workers (warmIdle), so the code is
   * loaded on every worker the pool may have, one at a time, in the background.
   */
  #spreadWarmth(job: Job): void {
    const cold = this.#slots.find((s) => !s.running && !s.warm.has(job.instanceKey));
    if (cold) {
      const load: Job = { ...job, request: undefined, stream: false };
      this.#dispatch(cold, { job: load, enqueuedAt: performance.now(), resolve: () => undefined, reject: () => undefined });
    } else if (this.#slots.every((s) => s.warm.has(job.instanceKey) || s.running)) {
      this.#grow(false);
    }
  }

  /**
   * Whether `pending` should wait for a warm worker rather than load its code on an idle one:
   * only a call (not a nested one, whose warm worker may be its own caller waiting for it) whose
   * code is warm on a busy worker. Makes sure some worker loads the code meanwhile: an idle one,
   * or one started for it; when neither is possible the call simply waits for a worker.
   */
  #warmsElsewhere(pending: Pending, idle: Slot[]): boolean {
    const { job } = pending;
    if (job.nested || !job.request) return false;
    if (!warmOnBusy(this.#slots, job)) return false;
    if (pending.warming) return true;
    if (idle.length === 0) {
      // A new worker becomes idle when ready and is then given the load.
      this.#grow(false);
      return true;
    }
    pending.warming = true;
    // Its outcome only matters to later dispatches: a failed load leaves the worker cold.
    const load: Job = { ...job, request: undefined };
    this.#dispatch(leastWarm(idle), { job: load, enqueuedAt: performance.now(), resolve: () => undefined, reject: () => undefined });
    return true;
  }

  /** Adds a worker: up to `size` for any call, and `callWorkers` more for nested calls only. */
  #grow(nested: boolean): boolean {
    const limit = this.options.size + (nested ? (this.options.callWorkers ?? 0) : 0);
    if (this.#stopped || this.#slots.length >= limit) return false;
    if (this.#backoff.remaining() > 0) {
      this.#refill(); // schedules the next start at the end of the backoff
      return false;
    }
    this.#add();
    this.options.logger.debug({ workers: this.#slots.length, nested }, 'started a worker');
    return true;
  }

  /** Every worker waits for a callee and none can be added: the queued callees would wait forever. */
  #refuseStuckCalls(): void {
    if (!this.#slots.every((s) => s.running && s.blocked)) return;
    const limit = this.options.size + (this.options.callWorkers ?? 0);
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      const pending = this.#queue[i];
      if (!pending.job.nested) continue;
      this.#queue.splice(i, 1);
      pending.reject(new EnokiError('ERR_OVERLOADED', `all ${limit} workers hold callers waiting for callees`));
    }
  }

  #dispatch(slot: Slot, pending: Pending): void {
    const id = this.#nextId++;
    const { job } = pending;
    const timeoutMs = job.request ? job.timeoutMs : Math.max(job.timeoutMs, LOAD_TIMEOUT_MS);
    const timer = setTimeout(
      () => this.#replace(slot, `the function ran longer than its timeout of ${timeoutMs} ms`, 'timeout'),
      timeoutMs,
    );
    slot.running = { ...pending, id, timer, queuedMs: performance.now() - pending.enqueuedAt };
    const cold = !slot.warm.has(job.instanceKey);
    const post = (load?: LoadSpec) => {
      if (slot.running?.id === id) slot.worker.postMessage(invokeMessage(id, job, load));
    };
    if (!cold) return post();
    job.loadSpec().then(post, (err: Error) => {
      if (slot.running?.id !== id) return;
      clearTimeout(timer);
      slot.running = undefined;
      pending.resolve(unanswered((err as { failure?: string }).failure === 'memory' ? 'memory' : 'load', err.message, 0, true));
      this.#pump();
    });
  }

  /** A wasi:http guest's response part or outgoing request, for the call it belongs to. */
  #event(slot: Slot, message: Extract<FromWorker, { type: 'event' }>, events: SyncChannelPair): void {
    const running = slot.running;
    // A late event of a call already ended (timed out) has nobody to go to.
    if (!running || running.id !== message.id) return;
    const answer = (reply: EventAnswer) => postSyncReply(events, { seq: 0, reply: { callId: message.id, ...reply } });
    if (running.job.events) {
      try {
        running.job.events(message.event, answer);
      } catch (err) {
        // The host takes no more of this call's response (a held body past its limit,
        // wasi-http/held-body.ts): the guest is stopped as at its timeout.
        if (!(err instanceof HeldBodyOverflow)) throw err;
        this.#replace(slot, err.message, err.failure);
      }
    } else if (message.event.kind === 'fetch') answer({ fetchId: message.event.fetchId, result: { ok: false, error: { tag: 'HTTP-request-denied' } } });
  }

  #finish(slot: Slot, message: Extract<FromWorker, { type: 'done' }>): void {
    // A worker already replaced (timed out, crashed) may still deliver: nobody waits for it.
    if (!this.#slots.includes(slot)) return;
    const running = slot.running;
    if (!running || running.id !== message.id) {
      this.#channelFault(slot, `the worker finished call ${message.id} while ${running ? `call ${running.id}` : 'no call'} runs`);
      return;
    }
    clearTimeout(running.timer);
    // Done after its deadline, before the timer that stops it had its turn: it still ran longer
    // than its timeout (as on the inline engine), so its response does not stand. The worker is
    // idle and sound, and stays.
    const overdue = running.job.request !== undefined && performance.now() > running.enqueuedAt + running.queuedMs + running.job.timeoutMs;
    slot.running = undefined;
    slot.idleSince = performance.now();
    // Every reply the call used was its own (sequence-checked), so its result stands; but a
    // channel that dropped a foreign reply, or saw a call for another id, is not trusted again.
    if (message.channelFaults > 0 && !slot.inDoubt) this.#channelFault(slot, `the worker dropped ${message.channelFaults} foreign replies`);
    else if (slot.inDoubt) this.#replace(slot, 'its host-call channel is in doubt');
    if ((message.failure && message.failure.kind !== 'error') || running.evicted) slot.warm.delete(running.job.instanceKey);
    else slot.warm.set(running.job.instanceKey, { lastUsed: performance.now(), memoryBytes: message.memoryBytes });
    const result = answered(message, running.queuedMs);
    const timedOut = { kind: 'timeout' as const, message: `the function ran longer than its timeout of ${running.job.timeoutMs} ms` };
    running.resolve(overdue ? { ...result, response: undefined, failure: timedOut } : result);
    this.#enforceBudget();
    this.#pump();
  }

  #enforceBudget(): void {
    evictSlotsOverBudget(this.#slots, this.stats().warmMemoryBytes, this.options.memoryBudgetBytes, this.options.logger);
  }
}
