// Durable ReplicaStore on LevelDB (classic-level); the only module that touches LevelDB.
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import {
  StoreError,
  type AppliedWrite,
  type Clock,
  type ConditionalLocalWrite,
  type KeygroupInfo,
  type LiveItem,
  type LocalWrite,
  type ReplicaStore,
  type ScanOptions,
  type Sibling,
  type Version,
} from './port.js';
import {
  acceptRemote,
  isExpired,
  itemRef,
  liveSiblings,
  mergeIncoming,
  planConditional,
  planLocalWrites,
  requireKeygroup,
  unexpiredSiblings,
  validateConditional,
  validateExpiry,
  validateKeygroupInfo,
  validateWrites,
} from './siblings.js';
import { DEFAULT_MAX_VALUE_BYTES, isValidNodeId, validateId } from './version.js';
import { KeyIndex, lowerBound } from './key-index.js';
import { META_RANGE, decode, encode, encodeMeta, itemKey, itemRange, metaKey } from './level-layout.js';
import { WriteBehind } from '../support/write-behind.js';

export interface LevelReplicaStoreOptions {
  /** Directory of the LevelDB database; created if missing. */
  location: string;
  nodeId: string;
  clock?: Clock;
  /** Largest accepted value in UTF-8 bytes; 4 MiB by default. */
  maxValueBytes?: number;
  /**
   * fsync every write. Without it a write survives a process crash (it is in the write journal,
   * or LevelDB's log, before the call resolves) but not necessarily a power loss.
   */
  sync?: boolean;
  /** A background write to LevelDB failed (it is retried; the journal still holds it). */
  onBackgroundError?: (err: Error) => void;
}

/** The write journal's file, inside the LevelDB directory (LevelDB leaves names it does not know alone). */
const JOURNAL_FILE = 'enoki-journal';

const PURGE_BATCH = 512;

/**
 * Writers (applyLocal, applyConditional, mergeRemote, keygroup changes, purgeExpired) run one
 * at a time on an internal promise chain, so version read-modify-write never interleaves;
 * readers run freely on LevelDB's implicit snapshots. Keygroup metadata is cached in memory:
 * this process is the only writer (LevelDB holds a lock on the directory).
 */
export class LevelReplicaStore implements ReplicaStore {
  readonly nodeId: string;
  readonly location: string;
  private readonly db: ClassicLevel<string, string>;
  private readonly clock: Clock;
  private readonly maxValueBytes: number;
  private readonly sync: boolean;
  private readonly onBackgroundError: (err: Error) => void;
  /** Item writes: journaled, visible at once, applied to LevelDB behind (write-behind.ts). */
  private writes!: WriteBehind;
  private readonly keygroups = new Map<string, KeygroupInfo>();
  /** Sorted ids of small keygroups, for scans without an iterator (key-index.ts). */
  private readonly index = new KeyIndex();
  private writerTail: Promise<unknown> = Promise.resolve();
  private opened = false;

  constructor(options: LevelReplicaStoreOptions) {
    if (!isValidNodeId(options.nodeId)) throw new TypeError(`invalid node id ${JSON.stringify(options.nodeId)}`);
    this.nodeId = options.nodeId;
    this.location = options.location;
    this.clock = options.clock ?? Date.now;
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    this.sync = options.sync ?? false;
    this.onBackgroundError = options.onBackgroundError ?? ((err) => process.emitWarning(`replica store: a background write failed and is retried: ${err.message}`));
    this.db = new ClassicLevel<string, string>(options.location, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  }

  async open(): Promise<void> {
    if (this.opened) return;
    await this.db.open();
    try {
      this.writes = await WriteBehind.open(this.db, path.join(this.location, JOURNAL_FILE), { sync: this.sync, onError: this.onBackgroundError });
    } catch (err) {
      await this.db.close();
      throw err;
    }
    this.keygroups.clear();
    for await (const [key, value] of this.db.iterator(META_RANGE)) {
      const name = key.slice(2);
      const { mutable, expiry } = JSON.parse(value) as { mutable: boolean; expiry: number };
      this.keygroups.set(name, { name, mutable, expiry });
    }
    this.opened = true;
  }

  /** Lets queued writes finish, then closes the database. */
  async close(): Promise<void> {
    await this.exclusive(async () => {
      this.opened = false;
      this.index.clear();
      await this.writes.close();
      await this.db.close();
    });
  }

  /** Batches the last open() found in the write journal (left by a crash) and applied. */
  get replayedBatches(): number {
    return this.writes?.replayed ?? 0;
  }

  async createKeygroup(info: KeygroupInfo): Promise<void> {
    await this.exclusive(async () => {
      this.assertOpen();
      validateKeygroupInfo(info);
      if (this.keygroups.has(info.name)) {
        throw new StoreError('ERR_KEYGROUP_EXISTS', `keygroup ${info.name} already exists`);
      }
      this.index.drop(info.name);
      await this.writes.settle();
      await this.db.clear(itemRange(info.name));
      await this.db.put(metaKey(info.name), encodeMeta(info), { sync: this.sync });
      this.keygroups.set(info.name, { name: info.name, mutable: info.mutable, expiry: info.expiry });
    });
  }

  async deleteKeygroup(name: string): Promise<void> {
    await this.exclusive(async () => {
      this.info(name);
      await this.db.del(metaKey(name), { sync: this.sync });
      this.keygroups.delete(name);
      this.index.drop(name);
      await this.writes.settle();
      await this.db.clear(itemRange(name));
    });
  }

  async setKeygroupExpiry(name: string, expiry: number): Promise<void> {
    this.assertOpen();
    await this.exclusive(async () => {
      const info = { ...this.info(name), expiry };
      validateExpiry(name, expiry);
      await this.db.put(metaKey(name), encodeMeta(info), { sync: this.sync });
      this.keygroups.set(name, info);
    });
  }

  async getKeygroup(name: string): Promise<KeygroupInfo | undefined> {
    return this.getKeygroupSync(name);
  }

  getKeygroupSync(name: string): KeygroupInfo | undefined {
    this.assertOpen();
    const info = this.keygroups.get(name);
    return info && { ...info };
  }

  async listKeygroups(): Promise<KeygroupInfo[]> {
    this.assertOpen();
    return [...this.keygroups.keys()].sort().map((name) => ({ ...this.keygroups.get(name)! }));
  }

  async read(keygroup: string, id: string): Promise<Sibling[]> {
    const info = this.info(keygroup);
    validateId(id);
    // getSync answers from LevelDB's memtable and block cache in microseconds, where the async
    // get costs a round trip through libuv's thread pool; reads are on every invocation's path.
    return liveSiblings(decode(this.writes.get(itemKey(keygroup, id))), info, this.clock());
  }

  async readMany(keygroup: string, ids: string[]): Promise<Sibling[][]> {
    return this.readManySync(keygroup, ids);
  }

  readManySync(keygroup: string, ids: string[]): Sibling[][] {
    const info = this.info(keygroup);
    ids.forEach(validateId);
    if (ids.length === 0) return [];
    const now = this.clock();
    return ids.map((id) => liveSiblings(decode(this.writes.get(itemKey(keygroup, id))), info, now));
  }

  async scan(keygroup: string, options: ScanOptions): Promise<LiveItem[]> {
    const indexed = this.scanSync(keygroup, options);
    if (indexed) return indexed;
    const info = this.info(keygroup);
    const result: LiveItem[] = [];
    if (!(options.count > 0)) return result;
    if (this.index.wanted(keygroup)) this.buildIndex(keygroup);
    const range = itemRange(keygroup);
    const prefixLength = range.gte.length;
    // The iterator reads LevelDB alone: first let it catch up with every acknowledged write.
    await this.writes.applied();
    const now = this.clock();
    // Deleted and expired items still have keys, so no LevelDB limit: batches of exactly the
    // entries still wanted (one native call each; a plain async iteration reads ahead far more,
    // ~1 ms for a scan of 10 in a keygroup of a few hundred items) until `count` live ones.
    const iterator = this.db.iterator({ gte: range.gte + options.start, lt: range.lt });
    try {
      while (result.length < options.count) {
        const batch = await iterator.nextv(options.count - result.length);
        if (batch.length === 0) break;
        for (const [key, value] of batch) {
          const siblings = liveSiblings(decode(value), info, now);
          if (siblings.length > 0) result.push({ id: key.slice(prefixLength), siblings });
        }
      }
    } finally {
      await iterator.close();
    }
    return result;
  }

  /**
   * scan() answered without waiting, from the keygroup's id index and point lookups; undefined
   * while the keygroup has no index (not scanned yet, or too large for one).
   */
  scanSync(keygroup: string, options: ScanOptions): LiveItem[] | undefined {
    const info = this.info(keygroup);
    if (options.start !== '') validateId(options.start);
    const ids = this.index.get(keygroup);
    if (!ids) return undefined;
    const result: LiveItem[] = [];
    const now = this.clock();
    for (let i = lowerBound(ids, options.start); i < ids.length && result.length < options.count; i++) {
      const id = ids[i]!;
      const siblings = liveSiblings(decode(this.writes.get(itemKey(keygroup, id))), info, now);
      if (siblings.length > 0) result.push({ id, siblings });
    }
    return result;
  }

  /** Reads the keygroup's ids into the index on the write chain, so that no write is missed. */
  private buildIndex(keygroup: string): void {
    const { maxPerKeygroup } = this.index;
    void this.exclusive(async () => {
      if (!this.opened || !this.keygroups.has(keygroup) || !this.index.wanted(keygroup)) return;
      const range = itemRange(keygroup);
      await this.writes.applied();
      const keys = await this.db.keys({ ...range, limit: maxPerKeygroup + 1 }).all();
      this.index.fill(keygroup, keys.map((key) => key.slice(range.gte.length)));
    }).catch(() => undefined);
  }

  async applyLocal(writes: LocalWrite[]): Promise<AppliedWrite[]> {
    this.assertOpen();
    return this.exclusive(async () => {
      this.assertOpen();
      const lookup = (name: string) => this.keygroups.get(name);
      validateWrites(writes, lookup, this.maxValueBytes);
      if (writes.length === 0) return [];
      const refs = new Map<string, string>();
      for (const w of writes) refs.set(itemRef(w.keygroup, w.id), itemKey(w.keygroup, w.id));
      const keys = [...refs.values()];
      const stored = new Map([...refs.keys()].map((ref, i) => [ref, decode(this.writes.get(keys[i]))]));
      const plan = planLocalWrites(writes, {
        nodeId: this.nodeId,
        now: this.clock(),
        keygroups: lookup,
        stored: (keygroup, id) => stored.get(itemRef(keygroup, id))!,
      });
      // One batch, atomic in the journal and in LevelDB: a crash leaves all of it or none.
      await this.writes.write(plan.items.map((item) => [itemKey(item.keygroup, item.id), encode(item.siblings)] as const));
      for (const item of plan.items) this.index.add(item.keygroup, item.id);
      return plan.applied;
    });
  }

  async applyConditional(write: ConditionalLocalWrite, given: Version[]): Promise<AppliedWrite> {
    this.assertOpen();
    return this.exclusive(async () => {
      this.assertOpen();
      validateConditional(write, given, (name) => this.keygroups.get(name), this.maxValueBytes);
      const key = itemKey(write.keygroup, write.id);
      const plan = planConditional(write, given, {
        nodeId: this.nodeId,
        now: this.clock(),
        info: this.keygroups.get(write.keygroup)!,
        stored: decode(this.writes.get(key)),
      });
      // One put of the whole sibling list: atomic, and durable on the same terms as applyLocal.
      await this.writes.write([[key, encode(plan.siblings)]]);
      this.index.add(write.keygroup, write.id);
      return plan.applied;
    });
  }

  async mergeRemote(keygroup: string, id: string, sibling: Omit<Sibling, 'storedAt'>): Promise<boolean> {
    this.assertOpen();
    return this.exclusive(async () => {
      const info = this.info(keygroup);
      const incoming = acceptRemote(info, id, sibling, this.clock(), this.maxValueBytes);
      const merged = mergeIncoming(decode(this.writes.get(itemKey(keygroup, id))), incoming);
      if (!merged) return false;
      await this.writes.write([[itemKey(keygroup, id), encode(merged)]]);
      this.index.add(keygroup, id);
      return true;
    });
  }

  async *dump(keygroup: string): AsyncIterable<{ id: string; siblings: Sibling[] }> {
    const info = this.info(keygroup);
    const range = itemRange(keygroup);
    await this.writes.applied();
    const now = this.clock();
    for await (const [key, value] of this.db.iterator(range)) {
      const siblings = unexpiredSiblings(decode(value), info, now);
      if (siblings.length > 0) yield { id: key.slice(range.gte.length), siblings };
    }
  }

  /** Drops expired siblings (and items left empty). Returns the number of siblings dropped. */
  async purgeExpired(): Promise<number> {
    this.assertOpen();
    return this.exclusive(async () => {
      this.assertOpen();
      await this.writes.settle();
      const now = this.clock();
      let purged = 0;
      for (const info of this.keygroups.values()) {
        if (info.expiry <= 0) continue;
        // Purging is idempotent, so several smaller batches are as good as one huge one.
        let ops: Array<{ type: 'put'; key: string; value: string } | { type: 'del'; key: string }> = [];
        const prefixLength = itemRange(info.name).gte.length;
        const write = async () => {
          await this.db.batch(ops, { sync: this.sync });
          for (const op of ops) if (op.type === 'del') this.index.remove(info.name, op.key.slice(prefixLength));
          ops = [];
        };
        for await (const [key, value] of this.db.iterator(itemRange(info.name))) {
          const siblings = decode(value);
          const kept = siblings.filter((s) => !isExpired(s, info, now));
          if (kept.length === siblings.length) continue;
          purged += siblings.length - kept.length;
          ops.push(kept.length === 0 ? { type: 'del', key } : { type: 'put', key, value: encode(kept) });
          if (ops.length >= PURGE_BATCH) await write();
        }
        if (ops.length > 0) await write();
      }
      return purged;
    });
  }

  private info(keygroup: string): KeygroupInfo {
    this.assertOpen();
    return requireKeygroup((name) => this.keygroups.get(name), keygroup);
  }

  private assertOpen(): void {
    if (!this.opened) throw new StoreError('ERR_STORE_CLOSED', 'the store is not open');
  }

  /** Runs `task` after every earlier writer has settled; a failure does not block later ones. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.writerTail.then(task);
    this.writerTail = run.catch(() => undefined);
    return run;
  }
}
