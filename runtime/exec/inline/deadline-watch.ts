// The deadlines of the calls in flight, watched by one timer: a call registers its deadline and
// what to do when it passes, and unregisters when it ends. A timer per call would cost a timer
// list insertion and removal on every invocation; here a call costs a set entry, and the timer
// is re-armed only for a deadline earlier than the one it waits for (calls of one function
// share a timeout, so it rarely is).

export interface Watched {
  readonly deadline: number;
  readonly expire: () => void;
}

/** setTimeout's longest delay. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export class DeadlineWatch {
  readonly #calls = new Set<Watched>();
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Infinity;

  /** Calls `expire` once `deadline` (performance.now() time) has passed, unless unwatched before. */
  watch(deadline: number, expire: () => void): Watched {
    const entry = { deadline, expire };
    this.#calls.add(entry);
    if (deadline < this.#armedFor) this.#arm(deadline);
    return entry;
  }

  unwatch(entry: Watched): void {
    this.#calls.delete(entry);
  }

  get size(): number {
    return this.#calls.size;
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#armedFor = at;
    this.#timer = setTimeout(() => this.#fire(), Math.min(MAX_DELAY_MS, Math.max(0, Math.ceil(at - performance.now()))));
    // The calls themselves keep the node busy; a watch alone must not keep a process alive.
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const now = performance.now();
    let next = Infinity;
    const due: Watched[] = [];
    for (const call of this.#calls) {
      if (call.deadline <= now) due.push(call);
      else if (call.deadline < next) next = call.deadline;
    }
    for (const call of due) this.#calls.delete(call);
    if (next < Infinity) this.#arm(next);
    for (const call of due) call.expire();
  }
}
