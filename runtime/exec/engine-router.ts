// Sends each function's calls to the engine that can run it: the inline engine when it is on
// (JSPI present, ENOKI_ENGINE not 'worker') and can link the component with its own bindings
// (whatever its world), else the worker pool, which is started only when a first call needs it.

import type { EngineStats, GuestEngine, Job, JobResult } from './engine.js';
import type { InlineEngine } from './inline/inline-engine.js';
import type { WorkerPool } from './worker/worker-pool.js';

export class EngineRouter implements GuestEngine {
  /** Digest → whether the inline engine runs it (decided once per component). */
  readonly #inlineFor = new Map<string, Promise<boolean>>();
  /** The same decisions once settled. */
  readonly #decided = new Map<string, boolean>();
  #pool?: Promise<WorkerPool>;
  #started?: WorkerPool;

  constructor(
    private readonly inline: InlineEngine | undefined,
    private readonly makePool: () => WorkerPool,
  ) {}

  /** Starts what must run with the node: the worker pool when every call goes to workers. */
  async start(): Promise<void> {
    if (!this.inline) await this.#workers();
  }

  run(job: Job): Promise<JobResult> {
    // Decided before for this component (every call but its first): no extra turn of the loop.
    const known = this.#decided.get(job.meta.digest);
    if (known === true && this.inline) return this.inline.run(job);
    return this.#engineFor(job).then((engine) => engine.run(job));
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
