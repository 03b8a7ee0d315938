// Time as a port: the engine and the in-memory network read the clock and schedule callbacks only
// through Timers, so tests drive replication with ManualTimers instead of waiting in real time.

export type TimerHandle = unknown;

export interface Timers {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * Real time. Timers are unref'd: replication retries and anti-entropy rounds must never keep a
 * process alive on their own (servers do that; stop() clears what is left).
 */
export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

interface Pending {
  at: number;
  order: number;
  callback: () => void;
}

/**
 * A fake clock. advance(ms) fires due callbacks in time order (ties in scheduling order), letting
 * every promise chain settle before each callback and at the end, so code that awaits in-memory
 * adapters runs to completion within the advanced interval.
 */
export class ManualTimers implements Timers {
  private current: number;
  private order = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const handle = ++this.order;
    this.pending.set(handle, { at: this.current + Math.max(0, ms), order: handle, callback });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle as number);
  }

  /** Number of callbacks waiting to fire. */
  get size(): number {
    return this.pending.size;
  }

  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await settle();
      const next = this.nextDue(target);
      if (!next) break;
      this.pending.delete(next.order);
      this.current = Math.max(this.current, next.at);
      next.callback();
    }
    this.current = target;
    await settle();
  }

  private nextDue(limit: number): Pending | undefined {
    let best: Pending | undefined;
    for (const entry of this.pending.values()) {
      if (entry.at > limit) continue;
      if (!best || entry.at < best.at || (entry.at === best.at && entry.order < best.order)) best = entry;
    }
    return best;
  }
}

/** Resolves once every microtask queued so far (and those they queue) has run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
