// The rules of the `atomics` WIT interface that do not depend on where the keygroup lives: what
// counts as a counter value, checked s64 arithmetic, and increment as a loop of a read and a
// conditional write that retries when another writer got in between.

import type { AppliedWrite, Version } from '../../replication/store/port.js';
import { pickWinner } from '../../replication/store/version.js';
import { KvFault } from './kv-fault.js';
import type { KvSibling } from './kv-backend.js';

const MIN_S64 = -(2n ** 63n);
const MAX_S64 = 2n ** 63n - 1n;
const INTEGER = /^-?[0-9]+$/;
/** Digits of the largest s64 magnitude: more significant digits are out of range before BigInt sees them. */
const MAX_S64_DIGITS = 19;

/** The integer an item holds for `increment`; `invalid-value` for anything else. */
export function parseCounter(id: string, value: string): bigint {
  const shown = value.length > 32 ? `${value.slice(0, 32)}…` : value;
  if (!INTEGER.test(value)) {
    throw new KvFault('invalid-value', `item "${id}" holds ${JSON.stringify(shown)}, not a decimal integer: cannot increment it`);
  }
  const n = value.replace(/^-?0*/, '').length > MAX_S64_DIGITS ? undefined : BigInt(value);
  if (n === undefined || n < MIN_S64 || n > MAX_S64) {
    throw new KvFault('invalid-value', `item "${id}" holds ${shown}, outside the s64 range: cannot increment it`);
  }
  return n;
}

/** `current + delta`, refused instead of wrapped when it leaves the s64 range. */
export function addChecked(id: string, current: bigint, delta: bigint): bigint {
  const sum = current + delta;
  if (sum < MIN_S64 || sum > MAX_S64) {
    throw new KvFault('invalid-value', `incrementing "${id}" (${current}) by ${delta} would overflow s64; nothing was written`);
  }
  return sum;
}

/** What increment needs from a backend: its reads and its conditional write. */
export interface ConditionalStore {
  read(keygroup: string, id: string): Promise<KvSibling[]>;
  /** Resolves to the applied writes, or undefined when the condition did not hold. */
  compareAndSwap(keygroup: string, id: string, value: string, given: Version[]): Promise<AppliedWrite[] | undefined>;
}

export interface RetryPolicy {
  attempts: number;
  /** Pause before attempt `attempt` (2, 3, …); 0 retries at once. */
  delayMs(attempt: number): number;
}

/**
 * Reads the item, adds `delta` to the value `get` would return (0 when absent), and writes the
 * sum on condition that every sibling read is still all there is. A failed condition means
 * another write landed in between: read again. Nothing is written when the value is not a
 * counter or the sum overflows.
 */
export async function incrementByRetry(
  store: ConditionalStore,
  keygroup: string,
  id: string,
  delta: bigint,
  policy: RetryPolicy,
): Promise<{ value: bigint; applied: AppliedWrite[] }> {
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    if (attempt > 1) {
      const delay = policy.delayMs(attempt);
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    }
    const siblings = await store.read(keygroup, id);
    const winner = pickWinner(siblings);
    const value = addChecked(id, winner ? parseCounter(id, winner.value) : 0n, delta);
    const applied = await store.compareAndSwap(keygroup, id, value.toString(), siblings.map((s) => s.version));
    if (applied) return { value, applied };
  }
  throw new KvFault('unavailable', `increment of "${id}" lost ${policy.attempts} races in a row against other writes to it; nothing was written`);
}
