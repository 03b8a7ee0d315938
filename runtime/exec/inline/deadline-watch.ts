// The deadlines of the calls in flight, watched by one timer: a call registers its deadline and
// what to do when it passes, and unregisters when it ends. A timer per call would cost a timer
// list insertion and removal on every invocation; here a call costs a link in a list of its own
// (no table that grows and shrinks as calls come and go, as a Set's does), and the timer is
// re-armed only for a deadline earlier than the one it waits for (calls of one function share a
// timeout, so it rarely is).

export interface Watched {
  readonly deadline: number;
  readonly expire: () => void;
}

/** A watched call, linked into the list of calls in flight. */
interface Entry extends Watched {
  prev: Entry | undefined;
  next: Entry | undefined;
  linked: boolean;
}

/** setTimeout's longest delay. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export class DeadlineWatch {
  #first: Entry | undefined;
  #last: Entry | undefined;
  #size = 0;
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Infinity;

  /** Calls `expire` once `deadline` (performance.now() time) has passed, unless unwatched before. */
  watch(deadline: number, expire: () => void): Watched {
    const entry: Entry = { deadline, expire, prev: this.#last, next: undefined, linked: true };
    if (this.#last) this.#last.next = entry;
    else this.#first = entry;
    this.#last = entry;
    this.#size++;
    if (deadline < this.#armedFor) this.#arm(deadline);
    return entry;
  }

  unwatch(watched: Watched): void {
    const entry = watched as Entry;
    if (!entry.linked) return;
    entry.linked = false;
    if (entry.prev) entry.prev.next = entry.next;
    else this.#first = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.#last = entry.prev;
    entry.prev = entry.next = undefined;
    this.#size--;
  }

  get size(): number {
    return this.#size;
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
    const due: Entry[] = [];
    for (let entry = this.#first; entry; entry = entry.next) {
      if (entry.deadline <= now) due.push(entry);
      else if (entry.deadline < next) next = entry.deadline;
    }
    for (const entry of due) this.unwatch(entry);
    if (next < Infinity) this.#arm(next);
    for (const entry of due) entry.expire();
  }
}
