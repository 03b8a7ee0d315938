// LevelOutbox: the Outbox on its own classic-level database directory (never the store's).
// Appends and acks go through a write journal (support/write-behind.ts): an append is durable,
// and its entry can be sent, without waiting for LevelDB's thread pool.
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { WriteBehind } from '../support/write-behind.js';
import {
  OutboxError,
  copyEntry,
  validateCount,
  validatePeer,
  validateSeq,
  type Outbox,
  type OutboxEntry,
  type OutboxRecord,
} from './outbox.js';

export interface LevelOutboxOptions {
  /** Directory of the outbox's LevelDB database; created if missing. */
  location: string;
  /** fsync every append; without it an entry survives a process crash but not a power loss. */
  sync?: boolean;
  /** A background write to LevelDB failed (it is retried; the journal still holds it). */
  onBackgroundError?: (err: Error) => void;
}

// Key layout. Node ids may contain any character but ':' and ',', so the peer part is the hex of
// its UTF-8 bytes: hex never contains '!', so one peer's range never includes another's.
//   e!<hex peer>!<seq as 16 hex digits>  → JSON OutboxEntry
//   s                                    → highest seq ever allocated (decimal)
const SEQ_KEY = 's';
const peerPrefix = (peer: string) => `e!${Buffer.from(peer, 'utf8').toString('hex')}!`;
const seqPart = (seq: number) => seq.toString(16).padStart(16, '0');
const ENTRY_RANGE = { gte: 'e!', lt: 'e"' };
/** Bounds of a peer's in-memory tail: past either, peeks read LevelDB until the peer catches up. */
export const TAIL_ENTRIES = 4096;
const TAIL_BYTES = 16 * 1024 * 1024;

/**
 * Copies of a peer's unacked entries appended by this process, in seq order. `complete` when they
 * are all of the peer's unacked entries, so that peek() needs no LevelDB read (a trip through
 * libuv's thread pool on every delivery round, the one wait between a write's acknowledgment and
 * its sending).
 */
interface Tail {
  complete: boolean;
  records: OutboxRecord[];
  bytes: number;
}

/**
 * Appends and acks run one at a time on a promise chain, so the `s` key is always written in seq
 * order and an ack never overtakes the append it acknowledges. open() restores the seq counter
 * from max(`s`, highest entry key): an append survives a crash with its entry and counter.
 */
/** What an entry holds in memory, roughly: its value dominates. */
const entryBytes = (entry: OutboxEntry) => 2 * ((entry.value?.length ?? 0) + entry.id.length + entry.keygroup.length) + 64;

export class LevelOutbox implements Outbox {
  readonly location: string;
  private readonly db: ClassicLevel<string, string>;
  private readonly sync: boolean;
  private readonly onBackgroundError: (err: Error) => void;
  private writes!: WriteBehind;
  private lastSeq = 0;
  /** Peers that may have entries; peers() checks each one against the database. */
  private readonly knownPeers = new Set<string>();
  /**
   * Highest seq acked per peer in this process. Acked entries stay in LevelDB as deletion
   * markers until a compaction; starting ranges after them keeps peek and ack from stepping over
   * every entry ever delivered (a queue's classic LevelDB slowdown).
   */
  private readonly ackedThrough = new Map<string, number>();
  private chain: Promise<unknown> = Promise.resolve();
  private opened = false;
  private readonly tails = new Map<string, Tail>();

  constructor(options: LevelOutboxOptions) {
    this.location = options.location;
    this.sync = options.sync ?? false;
    this.onBackgroundError = options.onBackgroundError ?? ((err) => process.emitWarning(`outbox: a background write failed and is retried: ${err.message}`));
    this.db = new ClassicLevel<string, string>(options.location, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  }

  async open(): Promise<void> {
    if (this.opened) return;
    await this.db.open();
    try {
      this.writes = await WriteBehind.open(this.db, path.join(this.location, 'enoki-journal'), { sync: this.sync, onError: this.onBackgroundError });
    } catch (err) {
      await this.db.close();
      throw err;
    }
    const stored = await this.db.get(SEQ_KEY);
    this.lastSeq = stored === undefined ? 0 : Number(stored);
    this.knownPeers.clear();
    this.tails.clear();
    for await (const key of this.db.keys(ENTRY_RANGE)) {
      const [, hex, seq] = key.split('!') as [string, string, string];
      this.knownPeers.add(Buffer.from(hex, 'hex').toString('utf8'));
      this.lastSeq = Math.max(this.lastSeq, parseInt(seq, 16));
    }
    this.opened = true;
  }

  /** Lets queued appends and acks finish, then closes the database. */
  async close(): Promise<void> {
    await this.exclusive(async () => {
      if (!this.opened) return;
      this.opened = false;
      await this.writes.close();
      await this.db.close();
    });
  }

  append(peer: string, entry: OutboxEntry): Promise<number> {
    validatePeer(peer);
    const copy = copyEntry(entry);
    return this.exclusive(async () => {
      this.assertOpen();
      const seq = this.lastSeq + 1;
      await this.writes.write([
        [peerPrefix(peer) + seqPart(seq), JSON.stringify(copy)],
        [SEQ_KEY, String(seq)],
      ]);
      this.lastSeq = seq;
      // A peer with entries left from before this process started has no complete tail yet.
      if (!this.knownPeers.has(peer)) this.tails.set(peer, { complete: true, records: [], bytes: 0 });
      this.knownPeers.add(peer);
      this.remember(peer, { seq, entry: copy });
      return seq;
    });
  }

  async peek(peer: string, n: number): Promise<OutboxRecord[]> {
    this.assertOpen();
    validatePeer(peer);
    validateCount(n);
    const tail = this.tails.get(peer);
    if (tail?.complete) return tail.records.slice(0, n).map(({ seq, entry }) => ({ seq, entry: copyEntry(entry) }));
    const prefix = peerPrefix(peer);
    // LevelDB alone answers below: first let it catch up with the journal.
    await this.writes.applied();
    // One native call for the whole batch rather than an async step per entry.
    const entries = await this.db.iterator({ gt: this.lowerBound(peer), lt: `${prefix}~`, limit: n }).all();
    if (entries.length === 0) this.catchUp(peer);
    return entries.map(([key, value]) => ({ seq: parseInt(key.slice(prefix.length), 16), entry: JSON.parse(value) as OutboxEntry }));
  }

  ack(peer: string, upToSeq: number): Promise<void> {
    validatePeer(peer);
    validateSeq(upToSeq);
    return this.exclusive(async () => {
      this.assertOpen();
      const prefix = peerPrefix(peer);
      // Deletes of the acked keys, journaled after their appends, so a replay cannot bring them
      // back: the tail lists them, or else LevelDB (once it holds every append).
      const tail = this.tails.get(peer);
      let keys: string[];
      if (tail?.complete) {
        keys = tail.records.filter((r) => r.seq <= upToSeq).map((r) => prefix + seqPart(r.seq));
      } else {
        await this.writes.applied();
        keys = await this.db.keys({ gt: this.lowerBound(peer), lte: prefix + seqPart(upToSeq) }).all();
      }
      if (keys.length > 0) await this.writes.write(keys.map((key) => [key, null] as const));
      this.ackedThrough.set(peer, Math.max(upToSeq, this.ackedThrough.get(peer) ?? 0));
      if (tail) {
        const acked = tail.records.findIndex((r) => r.seq > upToSeq);
        const dropped = tail.records.splice(0, acked === -1 ? tail.records.length : acked);
        for (const r of dropped) tail.bytes -= entryBytes(r.entry);
      }
    });
  }

  /** Keeps a copy of an appended entry in the peer's tail, or gives the tail up past its bounds. */
  private remember(peer: string, record: OutboxRecord): void {
    const tail = this.tails.get(peer);
    if (!tail?.complete) return;
    tail.records.push(record);
    tail.bytes += entryBytes(record.entry);
    if (tail.records.length > TAIL_ENTRIES || tail.bytes > TAIL_BYTES) this.tails.set(peer, { complete: false, records: [], bytes: 0 });
  }

  /**
   * A peek from LevelDB found nothing unacked: checked again with no append in flight (on the
   * write chain), the peer's tail starts complete and empty, and later appends go to it.
   */
  private catchUp(peer: string): void {
    void this.exclusive(async () => {
      if (!this.opened || this.tails.get(peer)?.complete) return;
      const prefix = peerPrefix(peer);
      await this.writes.applied();
      const [first] = await this.db.keys({ gt: this.lowerBound(peer), lt: `${prefix}~`, limit: 1 }).all();
      if (first === undefined) this.tails.set(peer, { complete: true, records: [], bytes: 0 });
    }).catch(() => undefined);
  }

  /** Exclusive lower bound of a peer's live entries. */
  private lowerBound(peer: string): string {
    const acked = this.ackedThrough.get(peer);
    return peerPrefix(peer) + (acked === undefined ? '' : seqPart(acked));
  }

  /** Runs on the write chain so a concurrent append cannot be forgotten by the pruning below. */
  peers(): Promise<string[]> {
    return this.exclusive(async () => {
      this.assertOpen();
      const result: string[] = [];
      await this.writes.applied();
      for (const peer of [...this.knownPeers].sort()) {
        const prefix = peerPrefix(peer);
        const [first] = await this.db.keys({ gt: this.lowerBound(peer), lt: `${prefix}~`, limit: 1 }).all();
        if (first === undefined) this.knownPeers.delete(peer);
        else result.push(peer);
      }
      return result;
    });
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => {});
    return run;
  }

  private assertOpen(): void {
    if (!this.opened) throw new OutboxError('ERR_OUTBOX_CLOSED', 'the outbox is not open');
  }
}
