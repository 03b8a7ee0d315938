// Writes acknowledged from a write journal and applied to LevelDB behind the caller: the replica
// store's item writes, and the outbox's appends and acks.
//
// classic-level reads synchronously (getSync) but writes only through libuv's thread pool, and
// that round trip was the one wait left on an invocation that writes: ~50 µs at low load, and
// the store's writers queue behind each other for it. Here a write is appended to the journal
// with one synchronous write(2) (the same durability as LevelDB's own log without fsync: it
// survives a crash of the process), kept in an in-memory overlay that every read consults first,
// and applied to LevelDB in the background, many writes to one batch, in order. A batch leaves
// the overlay once LevelDB holds it; the journal is emptied whenever LevelDB has caught up, and
// replayed into LevelDB at open after a crash.
//
// With fsync on, a synchronous fsync would stall the event loop on every write, so writes then
// go straight to LevelDB (its sync write, in the thread pool) and nothing is journaled.

import type { ClassicLevel } from 'classic-level';
import { JournalFile, type JournalOp } from './journal-file.js';

/** The journal is emptied when LevelDB has caught up and it has grown past this. */
const RESET_BYTES = 256 * 1024;
/** Past either bound, writers wait for LevelDB to catch up (backpressure). */
const MAX_QUEUED_OPS = 65_536;
const MAX_JOURNAL_BYTES = 64 * 1024 * 1024;
const RETRY_MS = [10, 50, 250, 1000];

type Level = ClassicLevel<string, string>;

export interface WriteBehindOptions {
  /** fsync every write (then nothing is journaled; see above). */
  sync: boolean;
  /** A background batch failed; it is retried until it succeeds. */
  onError: (err: Error) => void;
}

export class WriteBehind {
  readonly #db: Level;
  readonly #journal: JournalFile | undefined;
  readonly #onError: (err: Error) => void;
  /** key → the newest value (null: deleted) not yet known to be in LevelDB, and its batch. */
  readonly #overlay = new Map<string, { value: string | null; seq: number }>();
  #queue: JournalOp[] = [];
  #appended = 0;
  #applied = 0;
  #flushing: Promise<void> | undefined;
  #waiters: Array<{ seq: number; resolve: () => void }> = [];
  #closed = false;
  /** Batches replayed from the journal at open. */
  readonly replayed: number;

  private constructor(db: Level, journal: JournalFile | undefined, options: WriteBehindOptions, replayed: number) {
    this.#db = db;
    this.#journal = journal;
    this.#onError = options.onError;
    this.replayed = replayed;
  }

  /** Opens the journal beside an open database and applies what a crash left in it. */
  static async open(db: Level, journalPath: string, options: WriteBehindOptions): Promise<WriteBehind> {
    const { file, batches } = JournalFile.open(journalPath);
    try {
      // In order, and each whole: the journal holds puts of complete values and deletes, so
      // replaying batches LevelDB already had is harmless.
      for (const batch of batches) await db.batch(toOps(batch), { sync: options.sync });
      file.reset();
    } catch (err) {
      file.close();
      throw err;
    }
    if (!options.sync) return new WriteBehind(db, file, options, batches.length);
    file.close();
    return new WriteBehind(db, undefined, options, batches.length);
  }

  get(key: string): string | undefined {
    const pending = this.#overlay.get(key);
    if (pending) return pending.value ?? undefined;
    return this.#db.getSync(key);
  }

  /**
   * Writes `ops` as one atomic batch. Without fsync it is durable (journaled) when write returns,
   * and visible to get at once; with fsync, once the returned promise resolves. When LevelDB has
   * fallen far behind, the batch waits for it to catch up first (backpressure), and the returned
   * promise resolves once the batch is written.
   */
  write(ops: readonly JournalOp[]): Promise<void> | undefined {
    if (this.#backlogged) return this.applied().then(() => this.write(ops));
    if (this.#closed) throw new Error('write-behind closed');
    if (!this.#journal) return this.#db.batch(toOps(ops), { sync: true });
    this.#journal.append(ops);
    const seq = ++this.#appended;
    for (const [key, value] of ops) this.#overlay.set(key, { value, seq });
    for (const op of ops) this.#queue.push(op);
    // Started from the check phase: after the reply this write belongs to has gone out, and with
    // every write of this turn of the loop in the same LevelDB batch.
    this.#flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#flush());
    return undefined;
  }

  /** LevelDB lags so far behind that writes wait for it. */
  get #backlogged(): boolean {
    return this.#queue.length > MAX_QUEUED_OPS || (this.#journal?.size ?? 0) > MAX_JOURNAL_BYTES;
  }

  /** Resolves once LevelDB holds every write made before the call. */
  applied(): Promise<void> {
    const seq = this.#appended;
    if (this.#applied >= seq) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ seq, resolve }));
  }

  /**
   * Waits until LevelDB holds every write, then empties the journal: before the store writes
   * LevelDB directly (clearing a keygroup, purging), so that no replay can undo that write. The
   * caller must hold the store's write chain, so that nothing is written meanwhile.
   */
  async settle(): Promise<void> {
    await this.applied();
    this.#journal?.reset();
  }

  /** Waits for the background writes (unless they are failing: the journal keeps those). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#flushing;
    this.#journal?.close();
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      const upTo = this.#appended;
      if (!(await this.#apply(batch))) return;
      this.#applied = upTo;
      for (const [key] of batch) {
        const pending = this.#overlay.get(key);
        if (pending && pending.seq <= upTo) this.#overlay.delete(key);
      }
      const waiting = this.#waiters;
      this.#waiters = [];
      for (const w of waiting) (w.seq <= upTo ? w.resolve() : this.#waiters.push(w));
      // Nothing is queued, so LevelDB holds everything the journal does.
      if (this.#queue.length === 0 && this.#journal!.size > RESET_BYTES) this.#journal!.reset();
    }
    this.#flushing = undefined;
  }

  /** Applies one batch, retrying while the store is open; false once it is closed. */
  async #apply(batch: JournalOp[]): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#db.batch(toOps(batch), { sync: false });
        return true;
      } catch (err) {
        this.#onError(err as Error);
        if (this.#closed) return false;
        await new Promise((r) => setTimeout(r, RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]));
      }
    }
  }
}

function toOps(ops: readonly JournalOp[]): Array<{ type: 'put'; key: string; value: string } | { type: 'del'; key: string }> {
  return ops.map(([key, value]) => (value === null ? { type: 'del', key } : { type: 'put', key, value }));
}
