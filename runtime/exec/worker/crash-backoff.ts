// When a worker that keeps dying may be started again: a worker that dies young (within 5 s of
// its start), again and again, is not restarted in a tight loop: each further start waits twice
// as long, from 100 ms up to 30 s, until one lives 5 s.

/** A worker that dies sooner than this after its start counts towards the backoff. */
const YOUNG_MS = 5_000;
const FIRST_WAIT_MS = 100;
const MAX_WAIT_MS = 30_000;

export class CrashBackoff {
  #streak = 0;
  #startAfter = 0;

  /** Records a crash of a worker started at `startedAt`; the wait it imposes on the next start, ms (0: none). */
  crashed(startedAt: number, now = performance.now()): number {
    this.#streak = now - startedAt < YOUNG_MS ? this.#streak + 1 : 0;
    if (this.#streak <= 1) return 0;
    const wait = Math.min(MAX_WAIT_MS, FIRST_WAIT_MS * 2 ** (this.#streak - 2));
    this.#startAfter = now + wait;
    return wait;
  }

  get streak(): number {
    return this.#streak;
  }

  /** How long a start must still wait, ms (≤ 0: it may start now). */
  remaining(now = performance.now()): number {
    return this.#startAfter - now;
  }
}
