// The port behind an invocation's key-value calls: where its reads go, where its buffered
// writes are applied on success, and where atomic operations are applied at once. The local
// adapter is the node's own replica (one atomic batch); RemoteKvBackend (remote-kv-backend.ts)
// serves a keygroup held by another node.

import type { AppliedWrite, KeygroupInfo, LocalWrite, ReplicaStore, Version } from '../../replication/store/port.js';
import { StoreError } from '../../replication/store/port.js';
import { EnokiError } from '../errors.js';
import { incrementByRetry, type RetryPolicy } from './atomic-ops.js';
import { KvFault } from './kv-fault.js';

export interface ScanRequest {
  start: string;
  count: number;
  startMustExist?: boolean;
}

/** One live sibling of an item. */
export interface KvSibling {
  value: string;
  version: Version;
}

export interface KvBackend {
  /** Live siblings of an item; [] when it does not exist. */
  read(keygroup: string, id: string): Promise<KvSibling[]>;
  readMany(keygroup: string, ids: string[]): Promise<KvSibling[][]>;
  /** readMany() without waiting, where the backend can (the local replica); absent elsewhere. */
  readManySync?(keygroup: string, ids: string[]): KvSibling[][];
  /**
   * Up to `count` live items from `start` ('' = the first) in code-unit order of ids. With
   * startMustExist, a `start` that is not stored is a `not-found` KvFault.
   */
  scan(keygroup: string, options: ScanRequest): Promise<{ id: string; siblings: KvSibling[] }[]>;
  /** scan() without waiting where the backend can now (an indexed local keygroup), else undefined. */
  scanSync?(keygroup: string, options: ScanRequest): { id: string; siblings: KvSibling[] }[] | undefined;
  /**
   * Applies the invocation's writes in order. Returns the writes this node applied to its own
   * replica, which it must still hand to replication ([] when another node applied them).
   */
  commit(writes: LocalWrite[]): Promise<AppliedWrite[]>;
  /**
   * FReD's conditional update of a mutable item, applied at once and durably: `value` is written
   * only if every live sibling's version equals or is an ancestor of one of `given` (with `given`
   * empty: only if the item has no live sibling). Resolves to the writes to hand to replication,
   * as commit(), or to undefined when the condition failed and nothing was written.
   */
  compareAndSwap(keygroup: string, id: string, value: string, given: Version[]): Promise<AppliedWrite[] | undefined>;
  /** Adds `delta` to the item's integer atomically (atomic-ops.ts), applied at once and durably. */
  increment(keygroup: string, id: string, delta: bigint): Promise<{ value: bigint; applied: AppliedWrite[] }>;
}

/** Finds the backend for a function's keygroup at the start of each invocation. */
export interface KvBackends {
  /** Answers at once where it can (the local replica), else with a promise. */
  open(options: { keygroup: string; kvNode?: string }): OpenedKv | Promise<OpenedKv>;
}

export interface OpenedKv {
  backend: KvBackend;
  keygroup: KeygroupInfo;
}

/** The scan starts at `start` and returns live items only: a live start is its first item. */
const scanCount = ({ count, startMustExist }: ScanRequest) => (startMustExist ? Math.max(count, 1) : count);

function scanResult<T extends { id: string }>(items: T[], { start, count, startMustExist }: ScanRequest): T[] {
  if (startMustExist && items[0]?.id !== start) throw new KvFault('not-found', `scan start "${start}" does not exist`);
  return items.length > count ? items.slice(0, count) : items;
}

const isConflict = (err: unknown) => err instanceof StoreError && err.code === 'ERR_VERSION_CONFLICT';

/**
 * On the local replica a lost race costs microseconds and means that another write succeeded:
 * retry at once. The bound only turns a pathological storm into an error instead of a hang.
 */
const LOCAL_RETRY: RetryPolicy = { attempts: 1000, delayMs: () => 0 };

/**
 * The node's own replica: reads are local, the commit is one atomic batch, and atomic operations
 * are the store's conditional write (checked and applied in one step, serialised with every
 * other write to the replica, the client API's and replication's included).
 */
export class StoreKvBackend implements KvBackend {
  readonly readManySync?: (keygroup: string, ids: string[]) => KvSibling[][];
  readonly scanSync?: (keygroup: string, options: ScanRequest) => { id: string; siblings: KvSibling[] }[] | undefined;

  constructor(private readonly store: ReplicaStore) {
    if (store.readManySync) this.readManySync = store.readManySync.bind(store);
    if (store.scanSync) {
      const scanSync = store.scanSync.bind(store);
      this.scanSync = (keygroup, request) => {
        const items = scanSync(keygroup, { start: request.start, count: scanCount(request) });
        return items && scanResult(items, request);
      };
    }
  }

  read(keygroup: string, id: string): Promise<KvSibling[]> {
    return this.store.read(keygroup, id);
  }

  readMany(keygroup: string, ids: string[]): Promise<KvSibling[][]> {
    return this.store.readMany(keygroup, ids);
  }

  async scan(keygroup: string, request: ScanRequest): Promise<{ id: string; siblings: KvSibling[] }[]> {
    return scanResult(await this.store.scan(keygroup, { start: request.start, count: scanCount(request) }), request);
  }

  commit(writes: LocalWrite[]): Promise<AppliedWrite[]> {
    return writes.length > 0 ? this.store.applyLocal(writes) : Promise.resolve([]);
  }

  async compareAndSwap(keygroup: string, id: string, value: string, given: Version[]): Promise<AppliedWrite[] | undefined> {
    const write = { kind: 'set' as const, keygroup, id, value };
    const applied = given.length > 0 ? await this.#conditional(write, given) : await this.#createIfAbsent(write);
    return applied && [applied];
  }

  increment(keygroup: string, id: string, delta: bigint): Promise<{ value: bigint; applied: AppliedWrite[] }> {
    return incrementByRetry(this, keygroup, id, delta, LOCAL_RETRY);
  }

  async #conditional(write: { kind: 'set'; keygroup: string; id: string; value: string }, given: Version[]): Promise<AppliedWrite | undefined> {
    try {
      return await this.store.applyConditional(write, given);
    } catch (err) {
      if (isConflict(err)) return undefined;
      throw err;
    }
  }

  /**
   * "Only if absent". The store's conditional write needs a given version, and the empty one
   * serves while nothing of the item is stored. A deleted item keeps its tombstone, which reads
   * never show but which is newer than a fresh version: the write must supersede it, so it is
   * given the tombstone's version. The port has no read of one item's tombstones; `dump` is the
   * only way to them, so this path costs a walk of the keygroup up to the id, once per re-creation
   * of a deleted item.
   */
  async #createIfAbsent(write: { kind: 'set'; keygroup: string; id: string; value: string }): Promise<AppliedWrite | undefined> {
    const { keygroup, id } = write;
    const fresh = await this.#conditional(write, [{}]);
    if (fresh) return fresh;
    if ((await this.store.read(keygroup, id)).length > 0) return undefined;
    const hidden = await this.#storedVersions(keygroup, id);
    const recreated = hidden.length > 0 ? await this.#conditional(write, hidden) : undefined;
    if (recreated) return recreated;
    if ((await this.store.read(keygroup, id)).length > 0) return undefined;
    // Still absent and still refused: an expired sibling newer than the write (dump does not show
    // those either), or the item was re-created and deleted again meanwhile.
    throw new KvFault(
      'unavailable',
      `item "${id}" cannot be created now: a version reads do not show (a deletion or an expired write) is newer; ` +
        'retrying may help once expired versions are purged',
    );
  }

  /** Every stored version of the item, tombstones included (expired siblings excepted). */
  async #storedVersions(keygroup: string, id: string): Promise<Version[]> {
    for await (const item of this.store.dump(keygroup)) {
      if (item.id === id) return item.siblings.map((s) => s.version);
      if (item.id > id) break;
    }
    return [];
  }
}

/** Every keygroup in the local replica (a standalone node, or a cluster function without kvNode). */
export class LocalKvBackends implements KvBackends {
  readonly #backend: StoreKvBackend;

  constructor(private readonly store: ReplicaStore) {
    this.#backend = new StoreKvBackend(store);
  }

  open({ keygroup: name }: { keygroup: string }): OpenedKv | Promise<OpenedKv> {
    const found = (keygroup: KeygroupInfo | undefined): OpenedKv => {
      if (!keygroup) throw new EnokiError('ERR_KEYGROUP_NOT_FOUND', `keygroup ${name} does not exist on this node`);
      return { backend: this.#backend, keygroup };
    };
    if (!this.store.getKeygroupSync) return this.store.getKeygroup(name).then(found);
    // Thrown as a rejection, as from the asynchronous path.
    try {
      return found(this.store.getKeygroupSync(name));
    } catch (err) {
      return Promise.reject(err);
    }
  }
}
