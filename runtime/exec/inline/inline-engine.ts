// Runs guests on the event loop. Each function version keeps a small pool of instances, one
// call in flight each (instance-pool.ts). A guest that waits for the host (a scan, a durable
// atomic write, a nested call) or has used up its time slice is suspended through JSPI, so other
// calls go on meanwhile. A call past its deadline traps at its next metering check; one that is
// suspended past its deadline is answered with a timeout at once and its instance abandoned. A
// trapped or abandoned instance is never used again, nor is a wasi:http guest's, which serves one
// request. Warm instances' memory is kept under a budget, least recently used first. A guest that
// imports nothing that waits is called on the plain stack, without JSPI's stack switches, until
// one of its calls uses up a time slice: that call is made again through JSPI on another
// instance, and so are the function's later calls. One call itself runs in guest-call.ts.

import type { Logger } from 'pino';
import { EnokiError } from '../../errors.js';
import type { EngineStats, FailureKind, GuestEngine, Job, JobResult } from '../engine.js';
import { LOAD_TIMEOUT_MS } from '../engine.js';
import type { GuestHost } from './binding.js';
import type { InlineCode } from './inline-code.js';
import { HttpExchange } from './http-exchange.js';
import { GuestInstance, LinkError } from './linker.js';
import { runCall } from './guest-call.js';
import { InstancePool, WaitQueue } from './instance-pool.js';
import { WASM_PAGE } from '../worker/memory-limit.js';
import { DeadlineWatch } from './deadline-watch.js';
import { evictOverBudget } from '../memory-budget.js';

export interface InlineEngineOptions {
  code: InlineCode;
  /** Tells when compiled templates changed (templates.ts version()): code loaded earlier is reloaded. */
  templatesVersion?: () => number;
  /** Instances of one function version at most (nested calls excepted). */
  instancesPerCode: number;
  maxQueue: number;
  memoryBudgetBytes: number;
  /** Time a guest runs before it lets other work on the event loop have a turn. */
  sliceMs: number;
  logger: Logger;
}

/** The prewarming call's time limit: it is only there to have code compiled. */
const WARM_CALL_MS = 2_000;
/**
 * Components below this size are not worth an engine warm-up: a tiny guest's code compiles and
 * first runs in about a millisecond. JS and Python guests carry engines of 10 MB and more.
 */
const ENGINE_WARM_MIN_BYTES = 1024 * 1024;
/** The most of a warming call's response a wasi:http guest may write before it sets it (dropped). */
const WARM_RESPONSE_BYTES = 1024 * 1024;

export class InlineEngine implements GuestEngine {
  readonly #codes = new Map<string, InstancePool>();
  /** Compiled templates whose code a prewarming call has run (see #warmCompiledCode). */
  readonly #warmedTemplates = new WeakSet<WebAssembly.Module>();
  /** Engines (InlineCode.engineKey) that warmEngine ran, or is running, a function of. */
  readonly #warmedEngines = new Set<string>();
  /** Of those, the ones whose code did run. */
  #enginesRun = 0;
  readonly #deadlines = new DeadlineWatch();
  readonly #queue: WaitQueue;
  #busy = 0;
  /** What the calls in flight are expected to hold the loop for, ms (each its function's heldMs). */
  #demandMs = 0;
  #stopped = false;

  constructor(private readonly options: InlineEngineOptions) {
    this.#queue = new WaitQueue(options.maxQueue);
  }

  #templatesVersion(): number {
    return this.options.templatesVersion?.() ?? 0;
  }

  /** Whether this engine can run the component (false: it needs jco's glue on a worker). */
  async accepts(job: Pick<Job, 'meta'>): Promise<boolean> {
    return (await this.options.code.reason(job.meta)) === undefined;
  }

  run(job: Job): Promise<JobResult> {
    if (this.#stopped) return Promise.reject(new EnokiError('ERR_SHUTTING_DOWN', 'the node is shutting down'));
    const started = performance.now();
    let code: InstancePool;
    try {
      code = this.#code(job);
    } catch (err) {
      return Promise.reject(err);
    }
    // A warm instance is idle (the common case): straight to the call, no turn of the loop.
    const idle = job.request ? code.idle.pop() : undefined;
    if (idle) return this.#call(code, idle.instance, job, false, performance.now() - started);
    return this.#runTaking(code, job, started);
  }

  async #runTaking(code: InstancePool, job: Job, started: number): Promise<JobResult> {
    let instance: GuestInstance;
    let cold = false;
    try {
      ({ instance, cold } = await code.take(job));
    } catch (err) {
      if (err instanceof EnokiError) throw err;
      return this.#failed(err instanceof LinkError && err.memory ? 'memory' : 'load', `instantiation failed: ${(err as Error).message}`, true, started);
    }
    const queuedMs = performance.now() - started;
    if (!job.request) {
      code.give(instance);
      return { cold, logs: [], logsTruncated: false, queuedMs };
    }
    return this.#call(code, instance, job, cold, queuedMs);
  }

  async prewarm(job: Omit<Job, 'request'>): Promise<boolean> {
    const code = this.#code(job);
    if (code.count > 0) return true;
    await this.#warmCompiledCode(code, WARM_CALL_MS).catch(() => undefined);
    const result = await this.run({ ...job, timeoutMs: Math.max(job.timeoutMs, LOAD_TIMEOUT_MS) }).catch(() => undefined);
    return result !== undefined && !result.failure;
  }

  /** Whether warmEngine would consider the job's component (cheap: it reads nothing). */
  warmsEngineOf(job: Pick<Job, 'meta'>): boolean {
    return !this.#stopped && job.meta.size >= ENGINE_WARM_MIN_BYTES;
  }

  async warmEngine(job: Omit<Job, 'request'>, limitMs: number): Promise<boolean> {
    if (!this.warmsEngineOf(job)) return false;
    const engine = await this.options.code.engineKey(job.meta);
    if (this.#warmedEngines.has(engine)) return false;
    this.#warmedEngines.add(engine);
    try {
      const ran = await this.#warmCompiledCode(this.#code(job), limitMs);
      // Another function of the engine may do where this one did not (a wasi:http guest).
      if (ran) this.#enginesRun++;
      else this.#warmedEngines.delete(engine);
      return ran;
    } catch (err) {
      // Or where this one could not be loaded or instantiated.
      this.#warmedEngines.delete(engine);
      throw err;
    }
  }

  /**
   * V8 compiles a wasm function when it first runs: a JS guest's first call compiles a large part
   * of its engine (tens of ms), once per compiled template and process. Prewarming and the node's
   * engine warm-up (warmEngine) therefore make one call, on an instance of its own that is then
   * thrown away, with a request of no content and a host that refuses everything (no key-value, no
   * calls, output dropped): only the code it ran stays, compiled, shared by every instance of the
   * template. A wasi:http guest gets a GET of / whose response goes nowhere; an outgoing request
   * it makes is refused. Resolves false when the template's code had run before.
   */
  async #warmCompiledCode(code: InstancePool, limitMs: number): Promise<boolean> {
    const linkable = await code.linkable;
    const module = linkable.cores[0]?.module;
    if (!module || this.#warmedTemplates.has(module)) return false;
    this.#warmedTemplates.add(module);
    const refused = { ok: false as const, error: { tag: 'unavailable', val: 'not during prewarming' } };
    const host: GuestHost = {
      kv: () => refused,
      log: () => undefined,
      output: () => undefined,
      env: () => [],
      memoryLimitBytes: 0,
      maxBodyBytes: 0,
      invoke: async () => ({ ok: false, error: { tag: 'unavailable', val: 'not during prewarming' } }),
    };
    const instance = code.make(linkable);
    const request = { method: 'GET', path: '/', query: '', headers: [], body: new Uint8Array(0) };
    const deadline = performance.now() + limitMs;
    const call = (
      instance.kind === 'http'
        ? instance.call(host, new HttpExchange({ request, memoryLimitBytes: WARM_RESPONSE_BYTES }, false).args, deadline)
        : instance.handle(host, request, deadline)
    ).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([call, new Promise((resolve) => (timer = setTimeout(resolve, limitMs)))]);
    clearTimeout(timer);
    // A guest still waiting (a timer) is left to trap at its next check; its instance is dropped.
    instance.meter.abandon();
    return true;
  }

  /** Analyses the component and has its templates made (and kept on disk), making no instance. */
  async prepare(meta: Job['meta']): Promise<void> {
    const version = this.#templatesVersion();
    await this.options.code.load(meta);
    // Its template family may have gained parameters: code loaded before holds an outdated one.
    if (this.#templatesVersion() !== version) this.#refreshOutdated();
  }

  evict(instanceKey: string): void {
    const code = this.#codes.get(instanceKey);
    if (!code) return;
    code.evict();
    this.#codes.delete(instanceKey);
  }

  stats(): EngineStats {
    let warmInstances = 0;
    let warmMemoryBytes = 0;
    const modules = new Set<WebAssembly.Module>();
    for (const code of this.#codes.values()) {
      if (code.count > 0) for (const core of code.loaded?.cores ?? []) modules.add(core.module);
      warmInstances += code.idle.length;
      for (const { instance } of code.idle) warmMemoryBytes += instance.memoryBytes();
      warmMemoryBytes += code.shelf.bytes;
    }
    return { workers: 0, busy: this.#busy, queued: this.#queue.waiting, warmInstances, warmMemoryBytes, channelFaults: 0, compiledModules: modules.size, warmedEngines: this.#enginesRun };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const code of this.#codes.values()) code.stop();
    this.#codes.clear();
  }

  #code(job: Pick<Job, 'instanceKey' | 'meta' | 'memoryLimitBytes' | 'env'>): InstancePool {
    let code = this.#codes.get(job.instanceKey);
    // A template family it belongs to has gained parameters since it loaded: while none of its
    // instances is busy, load it again, so the outdated compiled template is no longer held.
    if (code && code.version !== this.#templatesVersion() && code.quiet) {
      this.#codes.delete(job.instanceKey);
      code = undefined;
    }
    if (!code) {
      const version = this.#templatesVersion();
      const linkable = this.options.code.load(job.meta);
      // Not cached when it fails: the next call tries again. Loading it may have given a template
      // family new parameters: then code loaded before holds an outdated template.
      linkable.then(
        (loaded) => {
          code!.loaded = loaded;
          if (this.#templatesVersion() !== version) this.#refreshOutdated();
        },
        () => {
          if (this.#codes.get(job.instanceKey) === code) this.#codes.delete(job.instanceKey);
        },
      );
      const source = { instanceKey: job.instanceKey, meta: job.meta, memoryLimitBytes: job.memoryLimitBytes, env: job.env };
      code = new InstancePool(job.instanceKey, linkable, Math.max(1, Math.floor(job.memoryLimitBytes / WASM_PAGE)), version, source, {
        instancesPerCode: this.options.instancesPerCode,
        sliceMs: this.options.sliceMs,
        queue: this.#queue,
        made: () => this.#enforceBudget(),
        stopped: () => this.#stopped,
        logger: this.options.logger,
      });
      this.#codes.set(job.instanceKey, code);
    }
    return code;
  }

  /**
   * Code whose instances are all idle and that was loaded on a template since replaced (its family
   * gained parameters: deploying functions one after another does this a few times) is loaded
   * again, with as many warm instances as it had. Every outdated instance would otherwise keep its
   * own compiled copy of the engine (tens of MiB for StarlingMonkey) until its function's next
   * call, which for a prewarmed function may never come.
   */
  #refreshOutdated(): void {
    if (this.#stopped) return;
    const version = this.#templatesVersion();
    for (const code of [...this.#codes.values()]) {
      if (code.version === version || !code.quiet) continue;
      const warm = code.idle.length;
      this.evict(code.key);
      if (warm === 0) continue;
      const fresh = this.#code(code.source);
      fresh.linkable
        .then((linkable) => {
          for (let i = 0; i < warm && !fresh.evicted && fresh.count < this.options.instancesPerCode; i++) fresh.keepWarm(linkable);
          this.#enforceBudget();
        })
        .catch((err: unknown) => this.options.logger.debug({ instanceKey: code.key, err }, 'reloading code on a newer template failed'));
    }
  }

  /** How long a call of this function version has held the event loop lately, ms (0: not known). */
  heldMsOf(instanceKey: string): number {
    return this.#codes.get(instanceKey)?.heldMs ?? 0;
  }

  /** What the calls in flight are expected to hold the event loop for, ms. */
  get demandMs(): number {
    return this.#demandMs;
  }

  async #call(code: InstancePool, instance: GuestInstance, job: Job, cold: boolean, queuedMs: number): Promise<JobResult> {
    this.#busy++;
    const demand = code.heldMs;
    this.#demandMs += demand;
    try {
      const started = performance.now();
      const deadline = started + job.timeoutMs;
      const onStack = instance.mayRunOnStack && !code.outrunsSlices;
      const first = runCall(instance, job, cold, queuedMs, this.#deadlines, { onStack, deadline });
      let outcome = first instanceof Promise ? await first : first;
      if (outcome.sliced) {
        // Stopped at the end of its slice: nothing of it counts. Made again where it can yield,
        // on another instance (this one stopped anywhere), within what is left of its timeout.
        code.outrunsSlices = true;
        code.retire(instance);
        let next: { instance: GuestInstance; cold: boolean };
        try {
          next = await code.take(job);
        } catch (err) {
          if (err instanceof EnokiError) throw err;
          return this.#failed(err instanceof LinkError && err.memory ? 'memory' : 'load', `instantiation failed: ${(err as Error).message}`, true, started - queuedMs);
        }
        instance = next.instance;
        outcome = await runCall(instance, job, cold || next.cold, queuedMs, this.#deadlines, { deadline });
      }
      code.held(instance.meter.heldMs);
      if (outcome.reusable) code.give(instance);
      // A call that timed out may have been abandoned while its guest was suspended.
      else code.retire(instance, { settled: outcome.result.failure?.kind !== 'timeout' });
      return outcome.result;
    } finally {
      // Reset when idle, so that rounding never leaves the loop looking busy.
      this.#demandMs = --this.#busy === 0 ? 0 : this.#demandMs - demand;
    }
  }

  #failed(kind: FailureKind, message: string, cold: boolean, started: number): JobResult {
    return { failure: { kind, message }, cold, logs: [], logsTruncated: false, queuedMs: performance.now() - started };
  }

  #enforceBudget(): void {
    const { logger } = this.options;
    const codes = this.#codes;
    evictOverBudget(this.stats().warmMemoryBytes, this.options.memoryBudgetBytes, function* () {
      for (const code of codes.values()) {
        // Zeroed memories kept for a wasi:http function's next instances go before any instance.
        if (code.shelf.bytes > 0) yield { lastUsed: -Infinity, bytes: () => code.shelf.bytes, evict: () => code.shelf.clear() };
        for (const entry of code.idle) {
          yield {
            lastUsed: entry.lastUsed,
            bytes: () => entry.instance.memoryBytes(),
            evict: () => {
              code.idle.splice(code.idle.indexOf(entry), 1);
              code.count--;
              logger.debug({ instanceKey: code.key }, 'evicted a warm instance over the memory budget');
            },
          };
        }
      }
    });
  }
}
