// The replica store port: what the runtime and the replication layer need from a node's local
// copy of its keygroups. Implementations: LevelReplicaStore (durable) and MemoryReplicaStore.
// Both run the shared conformance suite in test/replication/store/.
//
// Data model (FReD's): a keygroup holds items; an item is a set of siblings, each a value with a
// version vector. A local write supersedes every sibling the node knows (new version = merge of
// all of them + one tick for this node). A replicated write is merged by comparing versions:
// older or equal is ignored, newer replaces what it supersedes, concurrent is kept as a sibling.
// A delete is a tombstone sibling (value ''), kept so that it replicates and wins over older
// writes. Immutable keygroups take appends only: decimal ids, empty version, never overwritten.
// A conditional write (FReD's Update/Delete with versions) instead supersedes the versions the
// client has seen, and fails if the node stores anything the client has not seen.

/** A version vector: node id → counter. Counters stay below 2^53. */
export type Version = Record<string, number>;

export interface Sibling {
  value: string;
  version: Version;
  tombstone: boolean;
  /** When this node stored the sibling (ms since epoch, from the store's clock); drives expiry. */
  storedAt: number;
}

export interface KeygroupInfo {
  name: string;
  mutable: boolean;
  /** Seconds after which items stored on this node expire here; 0 = never. */
  expiry: number;
}

/** One live item as seen by readers: only non-tombstone, non-expired siblings. */
export interface LiveItem {
  id: string;
  siblings: Sibling[];
}

export type LocalWrite =
  | { kind: 'set'; keygroup: string; id: string; value: string }
  | { kind: 'delete'; keygroup: string; id: string }
  | { kind: 'append'; keygroup: string; id: string; value: string };

/** The writes that can be made conditional on versions the client has seen. */
export type ConditionalLocalWrite = Extract<LocalWrite, { kind: 'set' | 'delete' }>;

export interface AppliedWrite {
  keygroup: string;
  id: string;
  /** The sibling this node now stores for the write (tombstone for a delete). */
  sibling: Sibling;
}

export interface ScanOptions {
  /** First id to return (inclusive); '' starts at the first id. */
  start: string;
  /** Maximum number of live items returned. */
  count: number;
}

/** The clock the store uses for storedAt and expiry; injected so expiry tests are deterministic. */
export type Clock = () => number;

export interface ReplicaStore {
  /** The node id this store ticks in versions of local writes. */
  readonly nodeId: string;

  open(): Promise<void>;
  close(): Promise<void>;

  /** Throws StoreError ERR_KEYGROUP_EXISTS if present. */
  createKeygroup(info: KeygroupInfo): Promise<void>;
  /** Removes the keygroup and all its items. Throws ERR_KEYGROUP_NOT_FOUND if absent. */
  deleteKeygroup(name: string): Promise<void>;
  /**
   * Changes the keygroup's expiry on this node (seconds, a non-negative integer; 0 = never) and
   * persists it. It applies at once to items already stored: expiry counts from each sibling's
   * storedAt. Throws ERR_KEYGROUP_NOT_FOUND, ERR_INVALID_VALUE.
   */
  setKeygroupExpiry(name: string, expiry: number): Promise<void>;
  getKeygroup(name: string): Promise<KeygroupInfo | undefined>;
  /** getKeygroup() answered without waiting, for stores that can. Optional: callers fall back to getKeygroup(). */
  getKeygroupSync?(name: string): KeygroupInfo | undefined;
  listKeygroups(): Promise<KeygroupInfo[]>;

  /**
   * Live siblings of one item (tombstones and expired siblings left out), sorted by
   * compareSiblings. Empty when absent. Throws ERR_KEYGROUP_NOT_FOUND for an unknown keygroup.
   */
  read(keygroup: string, id: string): Promise<Sibling[]>;
  /** read() for several ids at once, in the order given. */
  readMany(keygroup: string, ids: string[]): Promise<Sibling[][]>;
  /**
   * readMany() answered without waiting, for stores that can (same results and errors, thrown).
   * Optional: callers fall back to readMany().
   */
  readManySync?(keygroup: string, ids: string[]): Sibling[][];
  /** Live items in lexicographic (UTF-16 code unit) id order from options.start. */
  scan(keygroup: string, options: ScanOptions): Promise<LiveItem[]>;
  /**
   * scan() answered without waiting, for stores that can (same results and errors, thrown), or
   * undefined when this one cannot now. Optional: callers fall back to scan().
   */
  scanSync?(keygroup: string, options: ScanOptions): LiveItem[] | undefined;

  /**
   * Applies an invocation's writes atomically (one durable batch, all or nothing) and returns
   * the resulting siblings in the same order. Validates everything before writing anything:
   * ERR_KEYGROUP_NOT_FOUND, ERR_WRONG_MUTABILITY (set/delete on immutable, append on mutable),
   * ERR_ITEM_NOT_FOUND (delete of an absent or already deleted item), ERR_ITEM_EXISTS (append to
   * a taken id). Several writes to one id in a batch apply in order. Serialised with other
   * applyLocal/mergeRemote calls so read-modify-write of versions is never interleaved.
   * Resolves only once the batch is durable against a process crash.
   */
  applyLocal(writes: LocalWrite[]): Promise<AppliedWrite[]>;

  /**
   * FReD's conditional Update/Delete: stores the write only if the client has seen everything
   * live here. Fails with ERR_VERSION_CONFLICT unless every live sibling's version is equal to or
   * before one of `given`, or if any stored sibling (tombstones and expired ones included) is
   * equal to or after the new version tick(merge(...given), nodeId). The new sibling replaces the
   * stored siblings that are before it and joins the concurrent ones (tombstones the client could
   * not see). Validates like applyLocal (ERR_KEYGROUP_NOT_FOUND, ERR_WRONG_MUTABILITY, ids and
   * values; ERR_ITEM_NOT_FOUND for a delete without a live sibling); `given` must be a non-empty
   * list of valid versions (ERR_INVALID_VALUE). Atomic, serialised with applyLocal/mergeRemote,
   * and durable before it resolves, like applyLocal.
   */
  applyConditional(write: ConditionalLocalWrite, given: Version[]): Promise<AppliedWrite>;

  /**
   * Merges one sibling received from a peer (FReD PutItem/AppendItem semantics). Returns true if
   * the store changed. Does not tick this node's clock.
   */
  mergeRemote(keygroup: string, id: string, sibling: Omit<Sibling, 'storedAt'>): Promise<boolean>;

  /** Every item of a keygroup with all stored siblings, tombstones included (for full sync). */
  dump(keygroup: string): AsyncIterable<{ id: string; siblings: Sibling[] }>;
}

export type StoreErrorCode =
  | 'ERR_KEYGROUP_EXISTS'
  | 'ERR_KEYGROUP_NOT_FOUND'
  | 'ERR_WRONG_MUTABILITY'
  | 'ERR_ITEM_NOT_FOUND'
  | 'ERR_ITEM_EXISTS'
  | 'ERR_INVALID_KEY'
  | 'ERR_INVALID_VALUE'
  /** A conditional write did not cover every stored version, or something newer is stored. */
  | 'ERR_VERSION_CONFLICT'
  | 'ERR_STORE_CLOSED';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}
