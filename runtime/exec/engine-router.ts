// Sends each function's calls to the engine that can run it: the inline engine when it is on
// (JSPI present, ENOKI_ENGINE not 'worker') and can link the component with its own bindings
// (whatever its world), else the worker pool, which is started only when a first call needs it.
//
// The event loop runs one guest at a time. With `offloadMs` set (ENOKI_OFFLOAD_MS), a call of a
// function whose calls hold the loop that long or longer goes to a worker, on another core, when
// it would wait for the loop behind another such call: so a node serves heavy calls on as many
// threads as it has workers, plus the loop. Light calls stay on the loop, where they cost less
// than the trip to a worker. A function is loaded on a worker in the background first, and its
// calls stay on the loop until a worker holds it, or while every worker is busy.

import type { EngineStats, GuestEngine, Job, JobResult } from './engine.js';
import type { InlineEngine } from './inline/inline-engine.js';
import type { WorkerPool } from './worker/worker-pool.js';

/** How long after calls last waited for the loop heavy calls still go to workers, ms. */
const CONTENTION_MS = 100;

export class EngineRouter implements GuestEngine {
  /** Digest → whether the inline engine runs it (decided once per component). */
  readonly #inlineFor = new Map<string, Promise<boolean>>();
  /** The same decisions once settled. */
  readonly #decided = new Map<string, boolean>();
  #pool?: Promise<WorkerPool>;
  #started?: WorkerPool;
  /** Function versions being loaded on a worker for offloaded calls. */
  readonly #loading = new Set<string>();
  /** Function versions a worker failed to load: their calls stay on the loop. */
  readonly #unfit = new Set<string>();
  #offloaded = 0;
  /** Calls of heavy functions started in this turn of the event loop (reset at its end). */
  #heavyThisTurn = 0;
  /** Until when heavy calls count as waiting for the loop (performance.now() time). */
  #contendedUntil = -Infinity;

  constructor(
    private readonly inline: InlineEngine | undefined,
    private readonly makePool: () => WorkerPool,
    /** Loop time from which a function's calls may go to workers, ms; 0: never (see above). */
    private readonly offloadMs = 0,
  ) {}

  /** Starts what must run with the node: the worker pool when every call goes to workers. */
  async start(): Promise<void> {
    if (!this.inline) await this.#workers();
  }

  run(job: Job): Promise<JobResult> {
    // Decided before for this component (every call but its first): no extra turn of the loop.
    const known = this.#decided.get(job.meta.digest);
    if (known === true && this.inline) {
      if (this.offloadMs > 0 && this.#offloads(job)) {
        this.#offloaded++;
        return this.#started!.run(job);
      }
      return this.inline.run(job);
    }
    return this.#engineFor(job).then((engine) => engine.run(job));
  }

  /** Whether this call of an inline function goes to a worker instead (see the top of the file). */
  #offloads(job: Job): boolean {
    const inline = this.inline!;
    if (!job.request || inline.heldMsOf(job.instanceKey) < this.offloadMs) return false;
    // A guest call holds the loop to its end unless it waits, so calls that arrive together start
    // one after another in the same turn of the loop: the second of them is a call that waits for
    // the loop. So are those that arrive while heavy calls wait on the host in between.
    // Once that happens, heavy calls go to workers that have room for a while, the first of a turn
    // too, leaving the loop to answer them; a lone client's calls, one after another, never do.
    const now = performance.now();
    if (this.#heavyThisTurn > 0 || inline.demandMs >= this.offloadMs) this.#contendedUntil = now + CONTENTION_MS;
    const contended = now < this.#contendedUntil;
    // The first of the turn has its end watched.
    if (this.#heavyThisTurn++ === 0) setImmediate(() => (this.#heavyThisTurn = 0));
    if (!contended) return false;
    const pool = this.#started;
    if (!pool) {
      this.#workers().catch(() => undefined);
      return false;
    }
    const key = job.instanceKey;
    if (this.#unfit.has(key)) return false;
    const room = pool.room(key);
    if (room === 'cold' && !this.#loading.has(key)) {
      const { request: _, ...load } = job;
      this.#loading.add(key);
      // A function a worker cannot load stays on the loop, without trying again.
      pool.prewarm(load).then(
        (loaded) => {
          this.#loading.delete(key);
          if (!loaded) this.#unfit.add(key);
        },
        () => this.#loading.delete(key),
      );
    }
    return room === 'warm';
  }

  async prewarm(job: Omit<Job, 'request'>): Promise<boolean> {
    return (await this.#engineFor(job)).prewarm(job);
  }

  async warmEngine(job: Omit<Job, 'request'>, limitMs: number): Promise<boolean> {
    // A small component is passed over before its record is read to decide where it runs.
    if (!this.inline?.warmsEngineOf(job)) return false;
    return (await this.#runsInline(job)) ? this.inline.warmEngine(job, limitMs) : false;
  }

  async prepare(meta: Job['meta']): Promise<void> {
    if (await this.#runsInline({ meta })) await this.inline!.prepare(meta);
  }

  evict(instanceKey: string): void {
    this.#unfit.delete(instanceKey);
    this.inline?.evict(instanceKey);
    this.#started?.evict(instanceKey);
  }

  stats(): EngineStats {
    const a = this.inline?.stats();
    const b = this.#started?.stats();
    const sum = (k: keyof EngineStats) => (a?.[k] ?? 0) + (b?.[k] ?? 0);
    return {
      workers: sum('workers'),
      busy: sum('busy'),
      queued: sum('queued'),
      warmInstances: sum('warmInstances'),
      warmMemoryBytes: sum('warmMemoryBytes'),
      channelFaults: sum('channelFaults'),
      compiledModules: sum('compiledModules'),
      warmedEngines: sum('warmedEngines'),
      offloadedCalls: this.#offloaded,
    };
  }

  /** Which engine runs `digest`: 'inline' or 'worker' (for logs and tests). */
  async engineOf(job: Pick<Job, 'meta'>): Promise<'inline' | 'worker'> {
    return (await this.#runsInline(job)) ? 'inline' : 'worker';
  }

  async stop(): Promise<void> {
    await this.inline?.stop();
    const pool = await this.#pool?.catch(() => undefined);
    await pool?.stop();
  }

  async #engineFor(job: Pick<Job, 'meta'>): Promise<GuestEngine> {
    return (await this.#runsInline(job)) ? this.inline! : this.#workers();
  }

  #runsInline(job: Pick<Job, 'meta'>): Promise<boolean> {
    if (!this.inline) return Promise.resolve(false);
    let decision = this.#inlineFor.get(job.meta.digest);
    if (!decision) {
      // A component the inline engine cannot even read is left to the workers (and jco's checks).
      const digest = job.meta.digest;
      decision = this.inline
        .accepts(job)
        .catch(() => false)
        .then((inline) => {
          if (this.#inlineFor.get(digest) === decision) this.#decided.set(digest, inline);
          return inline;
        });
      this.#inlineFor.set(digest, decision);
    }
    return decision;
  }

  #workers(): Promise<WorkerPool> {
    this.#pool ??= (async () => {
      const pool = this.makePool();
      await pool.start();
      this.#started = pool;
      return pool;
    })();
    this.#pool.catch(() => (this.#pool = undefined));
    return this.#pool;
  }
}
