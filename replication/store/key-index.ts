// The ids of small keygroups, sorted, in memory. With them a scan reads exactly the items it
// returns by point lookups (classic-level's getSync: microseconds, no wait) instead of through a
// LevelDB iterator, which costs a trip through the thread pool and, on ids overwritten many
// times (a function's counters and ring buffers), steps over every older version still in the
// memtable (`node dist/bench/probes.js rewritten`: 10 ids rewritten 20,000 times, as movingaverage
// rewrites its ring, p50 240 µs through the iterator, 10 µs through this index).
//
// Bounded: a keygroup is indexed only up to MAX_IDS_PER_KEYGROUP ids (a larger one keeps the
// iterator), and all indexes together up to MAX_IDS. The store fills an index once, with no
// writer running (its write chain), and keeps it in step with every write it makes.

/** Ids one keygroup's index holds at most (a few hundred KiB of strings at the most). */
export const MAX_IDS_PER_KEYGROUP = 4096;
/** Ids all indexes hold at most. */
export const MAX_IDS = 65_536;

/** First position in sorted `ids` whose id is ≥ `id` (UTF-16 code unit order, as the store's). */
export function lowerBound(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class KeyIndex {
  readonly #ids = new Map<string, string[]>();
  /** Keygroups found or grown too large: never indexed again until dropped (deleted, recreated). */
  readonly #tooLarge = new Set<string>();
  #total = 0;

  constructor(
    readonly maxPerKeygroup = MAX_IDS_PER_KEYGROUP,
    readonly maxTotal = MAX_IDS,
  ) {}

  /** The keygroup's ids in order, or undefined when it is not indexed. */
  get(keygroup: string): readonly string[] | undefined {
    return this.#ids.get(keygroup);
  }

  /** Whether an index of the keygroup may be built now. */
  wanted(keygroup: string): boolean {
    return !this.#ids.has(keygroup) && !this.#tooLarge.has(keygroup) && this.#total < this.maxTotal;
  }

  /**
   * Installs an index from the keygroup's stored ids in order, read while no writer ran. Given
   * more than the cap (read with limit cap + 1), it marks the keygroup as too large instead.
   */
  fill(keygroup: string, sortedIds: string[]): void {
    this.drop(keygroup);
    if (sortedIds.length > this.maxPerKeygroup || this.#total + sortedIds.length > this.maxTotal) {
      if (sortedIds.length > this.maxPerKeygroup) this.#tooLarge.add(keygroup);
      return;
    }
    this.#ids.set(keygroup, sortedIds);
    this.#total += sortedIds.length;
  }

  /** An id the store has just written (a no-op for a keygroup that is not indexed). */
  add(keygroup: string, id: string): void {
    const ids = this.#ids.get(keygroup);
    if (!ids) return;
    const at = lowerBound(ids, id);
    if (ids[at] === id) return;
    if (ids.length >= this.maxPerKeygroup || this.#total >= this.maxTotal) {
      const tooLarge = ids.length >= this.maxPerKeygroup;
      this.drop(keygroup);
      if (tooLarge) this.#tooLarge.add(keygroup);
      return;
    }
    ids.splice(at, 0, id);
    this.#total++;
  }

  /** An id the store has just removed. */
  remove(keygroup: string, id: string): void {
    const ids = this.#ids.get(keygroup);
    if (!ids) return;
    const at = lowerBound(ids, id);
    if (ids[at] !== id) return;
    ids.splice(at, 1);
    this.#total--;
  }

  /** Forgets the keygroup (its items were cleared, or it was deleted or recreated). */
  drop(keygroup: string): void {
    const ids = this.#ids.get(keygroup);
    if (ids) this.#total -= ids.length;
    this.#ids.delete(keygroup);
    this.#tooLarge.delete(keygroup);
  }

  /** Forgets everything (the store closed). */
  clear(): void {
    this.#ids.clear();
    this.#tooLarge.clear();
    this.#total = 0;
  }
}
