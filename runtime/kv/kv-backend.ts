// The port behind an invocation's key-value calls: where its reads go and where its buffered
// writes are applied on success. The local adapter is the node's own replica (one atomic batch);
// RemoteKvBackend (remote-kv-backend.ts) serves a keygroup held by another node.

import type { AppliedWrite, KeygroupInfo, LocalWrite, ReplicaStore, Version } from '../../replication/store/port.js';
import { EnokiError } from '../errors.js';
import { KvFault } from './invocation-kv.js';

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
  /**
   * Up to `count` live items from `start` ('' = the first) in code-unit order of ids. With
   * startMustExist, a `start` that is not stored is a `not-found` KvFault.
   */
  scan(keygroup: string, options: ScanRequest): Promise<{ id: string; siblings: KvSibling[] }[]>;
  /**
   * Applies the invocation's writes in order. Returns the writes this node applied to its own
   * replica, which it must still hand to replication ([] when another node applied them).
   */
  commit(writes: LocalWrite[]): Promise<AppliedWrite[]>;
}

/** Finds the backend for a function's keygroup at the start of each invocation. */
export interface KvBackends {
  open(options: { keygroup: string; kvNode?: string }): Promise<{ backend: KvBackend; keygroup: KeygroupInfo }>;
}

/** The node's own replica: reads are local, the commit is one atomic batch. */
export class StoreKvBackend implements KvBackend {
  constructor(private readonly store: ReplicaStore) {}

  read(keygroup: string, id: string): Promise<KvSibling[]> {
    return this.store.read(keygroup, id);
  }

  readMany(keygroup: string, ids: string[]): Promise<KvSibling[][]> {
    return this.store.readMany(keygroup, ids);
  }

  async scan(keygroup: string, { start, count, startMustExist }: ScanRequest): Promise<{ id: string; siblings: KvSibling[] }[]> {
    // The scan starts at `start` and returns live items only: a live start is its first item.
    const items = await this.store.scan(keygroup, { start, count: startMustExist ? Math.max(count, 1) : count });
    if (startMustExist && items[0]?.id !== start) throw new KvFault('not-found', `scan start "${start}" does not exist`);
    return items.length > count ? items.slice(0, count) : items;
  }

  commit(writes: LocalWrite[]): Promise<AppliedWrite[]> {
    return writes.length > 0 ? this.store.applyLocal(writes) : Promise.resolve([]);
  }
}

/** Every keygroup in the local replica (a standalone node, or a cluster function without kvNode). */
export class LocalKvBackends implements KvBackends {
  readonly #backend: StoreKvBackend;

  constructor(private readonly store: ReplicaStore) {
    this.#backend = new StoreKvBackend(store);
  }

  async open({ keygroup: name }: { keygroup: string }): Promise<{ backend: KvBackend; keygroup: KeygroupInfo }> {
    const keygroup = await this.store.getKeygroup(name);
    if (!keygroup) throw new EnokiError('ERR_KEYGROUP_NOT_FOUND', `keygroup ${name} does not exist on this node`);
    return { backend: this.#backend, keygroup };
  }
}
