// Gives the heap back once the node goes idle. Under load V8 grows the main thread's young
// generation (up to 32 MiB on Node 24) and keeps it committed afterwards: its own memory reducer
// does not run on a node that simply stops being called. So when the event loop has been idle
// for `idleMs` and the heap's committed memory has grown since the last collection, the node asks
// V8 for a full collection that also shrinks the young generation (the inspector's
// HeapProfiler.collectGarbage, V8's "all available garbage"; `node dist/bench/probes.js heap`
// measures one), once per idle period. A request arriving during it waits for it; a node that is
// never idle for `idleMs` never pays it.

import { performance as perf } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { Logger } from 'pino';

/**
 * The event loop counts as idle below this utilization (busy time ÷ elapsed time). Not near 0: a
 * node that does nothing but this collector's ticks is busy a few per cent of the time on a
 * virtual machine whose cores wake slowly from idle; a node serving calls is well above it.
 */
const IDLE_UTILIZATION = 0.05;
/**
 * Growth of the heap's committed memory since the last collection that is worth one: on an idle
 * node with 10 tiny functions, the 1–2 MiB their first calls leave is 2–3 % of its resident set.
 * Committed, not used: a young generation grown under load holds many MiB of committed pages while
 * what it holds in use, after a scavenge, may have grown by less than one.
 */
const GROWTH_BYTES = 1024 * 1024;

export interface IdleCollectorPorts {
  /** Event-loop utilization (0–1) since the previous call. */
  utilization(): number;
  /** Bytes of memory the heap has committed now (right after a collection, what it kept). */
  heapBytes(): number;
  collect(): Promise<void>;
}

/** The decision, apart from timers and V8: `tick` is called at a fixed period with the time. */
export class IdleCollector {
  #idleSince: number | undefined;
  #heapAfterLast = 0;
  #collecting = false;
  #collections = 0;

  constructor(
    private readonly ports: IdleCollectorPorts,
    private readonly idleMs: number,
  ) {}

  get collections(): number {
    return this.#collections;
  }

  /** Resolves once a collection that this tick started has ended (at once when none did). */
  async tick(now: number): Promise<void> {
    if (this.#collecting) return;
    if (this.ports.utilization() > IDLE_UTILIZATION) {
      this.#idleSince = undefined;
      return;
    }
    this.#idleSince ??= now;
    if (now - this.#idleSince < this.idleMs || this.ports.heapBytes() - this.#heapAfterLast < GROWTH_BYTES) return;
    this.#collecting = true;
    try {
      await this.ports.collect();
      this.#collections++;
    } finally {
      this.#heapAfterLast = this.ports.heapBytes();
      this.#collecting = false;
      // The collection's own time is not the next period's activity.
      this.ports.utilization();
    }
  }
}

/** A full collection that shrinks the young generation, through an in-process inspector session. */
export async function collectAllGarbage(): Promise<void> {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  try {
    await new Promise<void>((resolve, reject) => session.post('HeapProfiler.collectGarbage', (err) => (err ? reject(err) : resolve())));
  } finally {
    session.disconnect();
  }
}

/** Starts the collector on this process's main thread, until stop(); collections() counts what it did. */
export function startIdleCollector(idleMs: number, logger: Logger): { stop(): void; collections(): number } {
  let last = perf.eventLoopUtilization();
  const collector = new IdleCollector(
    {
      utilization: () => {
        const now = perf.eventLoopUtilization();
        const delta = perf.eventLoopUtilization(now, last);
        last = now;
        return delta.utilization;
      },
      heapBytes: () => v8.getHeapStatistics().total_physical_size,
      collect: collectAllGarbage,
    },
    idleMs,
  );
  const timer = setInterval(
    () =>
      void collector.tick(perf.now()).catch((err: unknown) => {
        // A Node built without the inspector: nothing to collect with, so stop asking.
        logger.warn({ err }, 'idle heap collection unavailable; the node keeps its heap as V8 sizes it');
        clearInterval(timer);
      }),
    Math.min(1000, Math.max(100, idleMs / 4)),
  );
  timer.unref();
  return { stop: () => clearInterval(timer), collections: () => collector.collections };
}
