// Which queued call runs next and on which worker, and which warm instances go over the memory
// budget: the pool's rules as functions of its queue and slots (worker-pool.ts applies them and
// owns the side effects).

import type { Logger } from 'pino';
import type { Job } from '../engine.js';
import { evictOverBudget } from '../memory-budget.js';
import type { Pending, Slot } from './worker-slot.js';

/** The idle worker with the fewest warm instances: the one a cold load costs least. */
export function leastWarm(idle: Slot[]): Slot {
  return idle.reduce((best, s) => (s.warm.size < best.warm.size ? s : best));
}

/**
 * An idle worker warm for the job's code. For standard-world guests, which take a fresh
 * instance per request and make the next ones while idle, the one idle longest: it has had the
 * most time to make them.
 */
export function warmIdle(idle: Slot[], job: Job): Slot | undefined {
  if (job.meta.world === undefined) return idle.find((s) => s.warm.has(job.instanceKey));
  let best: Slot | undefined;
  for (const s of idle) if (s.warm.has(job.instanceKey) && (!best || s.idleSince < best.idleSince)) best = s;
  return best;
}

/**
 * The index in `queue` of the call to place next: the first nested job; else the oldest job
 * while fewer than `size` workers run other jobs; -1 for none. Skips the jobs in `waiting`.
 */
export function nextIndex(queue: Pending[], slots: Slot[], size: number, waiting: Set<Pending>): number {
  const nested = queue.findIndex((p) => p.job.nested && !waiting.has(p));
  if (nested >= 0) return nested;
  const outer = slots.filter((s) => s.running && !s.running.job.nested).length;
  if (outer >= size) return -1;
  return queue.findIndex((p) => !waiting.has(p));
}

/** Whether some busy worker, not blocked on a callee, is warm for the job's code. */
export function warmOnBusy(slots: Slot[], job: Job): boolean {
  return slots.some((s) => s.running && !s.blocked && s.warm.has(job.instanceKey));
}

/**
 * Evicts warm instances, least recently used first, until the warm memory of all workers is
 * within `budgetBytes`; an instance whose call is running stays.
 */
export function evictSlotsOverBudget(slots: Slot[], warmBytes: number, budgetBytes: number, logger: Logger): void {
  evictOverBudget(warmBytes, budgetBytes, function* () {
    for (const slot of slots) {
      for (const [instanceKey, w] of slot.warm) {
        if (slot.running?.job.instanceKey === instanceKey) continue;
        yield {
          lastUsed: w.lastUsed,
          bytes: () => w.memoryBytes,
          evict: () => {
            slot.warm.delete(instanceKey);
            slot.worker.postMessage({ type: 'evict', instanceKey });
            logger.debug({ instanceKey }, 'evicted a warm instance over the memory budget');
          },
        };
      }
    }
  });
}
