// The host side of the metering injected into guest code (wasm/code.ts): every FUEL checks the
// guest calls `check`, which refills its fuel and decides whether the call goes on, traps (past
// its deadline, or its instance was abandoned) or gives the event loop a turn (its time slice is
// used up and the stack can suspend). A call on the plain stack (a guest that imports nothing
// that waits, see linker.ts) cannot suspend: at the end of its slice it traps, with `sliceUsed`
// set, and is started again on a stack that can. Nor can a host call into the guest (an
// allocation while arguments or results are copied, post-return): one that runs past
// reentrantMs traps, with `reentrantTooLong` set. The call's deadline holds until its result is
// lifted and post-return has run. One Meter per instance; each core instance of it has its own
// fuel global and `check`.

import { suspending } from './jspi.js';

/** Checks between two calls of `check`: small enough to notice a deadline within ~1 ms. */
export const FUEL = 10_000;

const GO_ON = 0;
const TRAP = 1;
const SUSPEND = 2;

export class Meter {
  #deadline = Infinity;
  #sliceEnd = Infinity;
  /** Inside the handle call, with no host frame between it and the guest code. */
  #inCall = false;
  /** The handle call runs on the plain stack: it cannot suspend. */
  #onStack = false;
  /** Host calls into the guest (allocations, post-return) in progress: no suspending then. */
  #reentrant = 0;
  #abandoned = false;
  /** When the first check inside the current host call into the guest came (see reenter). */
  #reentrantSince: number | undefined;
  readonly #fuels: WebAssembly.Global[] = [];
  /** Since when the current call runs on the event loop; undefined while it waits or is over. */
  #runningSince: number | undefined;
  /** Event-loop time of the current call's earlier stretches, ms. */
  #held = 0;

  constructor(private readonly sliceMs: number) {}

  /**
   * How long one host call into the guest (an allocation, post-return) may run. It cannot give
   * the event loop a turn, so it holds every other call meanwhile: a guest's allocator or
   * post-return that loops is stopped after this, not at the call's timeout.
   */
  get reentrantMs(): number {
    return Math.max(50, 10 * this.sliceMs);
  }

  /** True once a check found the deadline passed or the instance abandoned: the trap was ours. */
  expired = false;
  /** True once a call on the plain stack used up its time slice: that trap was ours too. */
  sliceUsed = false;
  /** True once a host call into the guest ran past reentrantMs: that trap was ours as well. */
  reentrantTooLong = false;

  /** The imports of one metered core instance; `fuel` is resolved once it is instantiated. */
  imports(fuel: () => WebAssembly.Global | undefined): { check: () => number; suspend: unknown } {
    return {
      check: () => {
        const now = performance.now();
        if (this.#abandoned || now >= this.#deadline) {
          this.expired = true;
          return TRAP;
        }
        const global = fuel();
        if (global) global.value = FUEL;
        if (this.#reentrant > 0) {
          // Timed from its first check: an allocation that never reaches one costs no clock read.
          this.#reentrantSince ??= now;
          if (now - this.#reentrantSince >= this.reentrantMs) {
            this.reentrantTooLong = true;
            return TRAP;
          }
        }
        if (now >= this.#sliceEnd && this.#inCall && this.#reentrant === 0) {
          if (!this.#onStack) return SUSPEND;
          this.sliceUsed = true;
          return TRAP;
        }
        return GO_ON;
      },
      suspend: suspending(() => {
        this.pause();
        return new Promise<void>((resolve) =>
          setImmediate(() => {
            this.resume();
            this.#sliceEnd = performance.now() + this.sliceMs;
            resolve();
          }),
        );
      }),
    };
  }

  track(fuel: WebAssembly.Global): void {
    fuel.value = FUEL;
    this.#fuels.push(fuel);
  }

  begin(deadline: number): void {
    const now = performance.now();
    this.#deadline = deadline;
    this.#sliceEnd = now + this.sliceMs;
    this.#held = 0;
    this.#runningSince = now;
    this.expired = false;
    this.sliceUsed = false;
    this.reentrantTooLong = false;
  }

  /** The guest's handle call starts; `onStack`: on the plain stack, where it cannot suspend. */
  enter(onStack = false): void {
    this.#inCall = true;
    this.#onStack = onStack;
  }

  /** The handle call has returned; lifting its result and post-return still run under its deadline. */
  leave(): void {
    this.#inCall = false;
    this.#onStack = false;
  }

  /** Nothing of the call runs any more: no deadline until the next one begins. */
  end(): void {
    this.#deadline = Infinity;
    this.pause();
  }

  /** The guest waits for the host (a promise, or a turn of the loop): its loop time stops. */
  pause(): void {
    if (this.#runningSince === undefined) return;
    this.#held += performance.now() - this.#runningSince;
    this.#runningSince = undefined;
  }

  /** The guest runs again. */
  resume(): void {
    this.#runningSince ??= performance.now();
  }

  /**
   * How long the current (or, once it ended, the last) call held the event loop, ms: from its
   * begin to its end, less its waits. What moving the function's calls to another thread would
   * free the loop of (engine-router.ts).
   */
  get heldMs(): number {
    return this.#held + (this.#runningSince === undefined ? 0 : performance.now() - this.#runningSince);
  }

  /** Runs a host call into the guest during which the guest must not suspend. */
  reenter<R>(f: () => R): R {
    this.#reentrant++;
    try {
      return f();
    } finally {
      if (--this.#reentrant === 0) this.#reentrantSince = undefined;
    }
  }

  /** The call was given up (its timeout passed while it waited): trap at its next check. */
  abandon(): void {
    this.#abandoned = true;
    for (const fuel of this.#fuels) fuel.value = 0;
  }
}
