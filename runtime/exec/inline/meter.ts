// The host side of the metering injected into guest code (wasm/code.ts): every FUEL checks the
// guest calls `check`, which refills its fuel and decides whether the call goes on, traps (past
// its deadline, or its instance was abandoned) or gives the event loop a turn (its time slice is
// used up and the stack can suspend). A call on the plain stack (a guest that imports nothing
// that waits, see linker.ts) cannot suspend: at the end of its slice it traps, with `sliceUsed`
// set, and is started again on a stack that can. One Meter per instance; each core instance of
// it has its own fuel global and `check`.

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
  readonly #fuels: WebAssembly.Global[] = [];

  constructor(private readonly sliceMs: number) {}

  /** True once a check found the deadline passed or the instance abandoned: the trap was ours. */
  expired = false;
  /** True once a call on the plain stack used up its time slice: that trap was ours too. */
  sliceUsed = false;

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
        if (now >= this.#sliceEnd && this.#inCall && this.#reentrant === 0) {
          if (!this.#onStack) return SUSPEND;
          this.sliceUsed = true;
          return TRAP;
        }
        return GO_ON;
      },
      suspend: suspending(
        () =>
          new Promise<void>((resolve) =>
            setImmediate(() => {
              this.#sliceEnd = performance.now() + this.sliceMs;
              resolve();
            }),
          ),
      ),
    };
  }

  track(fuel: WebAssembly.Global): void {
    fuel.value = FUEL;
    this.#fuels.push(fuel);
  }

  begin(deadline: number): void {
    this.#deadline = deadline;
    this.#sliceEnd = performance.now() + this.sliceMs;
    this.expired = false;
    this.sliceUsed = false;
  }

  /** The guest's handle call starts; `onStack`: on the plain stack, where it cannot suspend. */
  enter(onStack = false): void {
    this.#inCall = true;
    this.#onStack = onStack;
  }

  leave(): void {
    this.#inCall = false;
    this.#onStack = false;
    this.#deadline = Infinity;
  }

  /** Runs a host call into the guest during which the guest must not suspend. */
  reenter<R>(f: () => R): R {
    this.#reentrant++;
    try {
      return f();
    } finally {
      this.#reentrant--;
    }
  }

  /** The call was given up (its timeout passed while it waited): trap at its next check. */
  abandon(): void {
    this.#abandoned = true;
    for (const fuel of this.#fuels) fuel.value = 0;
  }
}
