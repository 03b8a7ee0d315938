// The naming service port: cluster-wide node addresses, keygroups, replicas, permissions and missed writes.
//
// Contract (both MemoryNaming and EtcdNaming run test/replication/naming/conformance.ts):
// - Data is FReD's naming-service data, stored under FReD's exact etcd keys with plain string
//   values (see schema.ts), so an Enoki node and a real FReD node sharing one etcd agree.
// - Reads are answered from local memory (EtcdNaming: a watch-fed cache), never block on the
//   network, and keep answering while the backing store is unreachable.
// - Writes are atomic and checked against the cluster-wide state at write time (not against a
//   possibly stale cache): of concurrent createKeygroup calls for one name exactly one succeeds.
//   A resolved write is visible to reads on the same instance; other instances see it once their
//   watch delivers it. Writes fail with ERR_NAMING_UNAVAILABLE when the store cannot be reached.
// - A keygroup exists while its status is `created`; delete marks it `deleted` and keeps the
//   membership keys (as FReD does, so members can learn that it is gone).

export interface NodeRecord {
  id: string;
  /** host:port of the node's peering API (`node|<N>|address`). */
  address: string;
  /** host:port of the node's client API (`node|<N>|extaddress`). */
  extAddress: string;
}

export interface Replica {
  node: string;
  /** Seconds after which items expire on that replica; 0 = never. */
  expiry: number;
}

export interface KeygroupInfo {
  name: string;
  mutable: boolean;
  /** Current members (status `ok`), sorted by node id. */
  replicas: Replica[];
}

export interface CreateKeygroupRequest {
  name: string;
  mutable: boolean;
  /** Expiry on the creating node, which becomes the first replica. */
  expiry: number;
  node: string;
  /** User who gets every role on the new keygroup in the same atomic write (FReD grants the creator all). */
  owner?: string;
}

/** A write node `node` missed for item `id` of `keygroup` (`failnode|<N>|kg|<K>|<id>`). */
export interface MissedWrite {
  node: string;
  keygroup: string;
  id: string;
}

/** Roles of FReD's client API, in the order of its `UserRole` enum (index = wire number). */
export const ROLES = ['ReadKeygroup', 'WriteKeygroup', 'ConfigureReplica', 'ConfigureTrigger', 'ConfigureKeygroups'] as const;
export type Role = (typeof ROLES)[number];

/** Permission names FReD stores as `user|<U>|kg|<K>|method|<M>` (its `fred.Method` constants). */
export type Method =
  | 'Read'
  | 'Update'
  | 'Delete'
  | 'AddReplica'
  | 'GetReplica'
  | 'RemoveReplica'
  | 'GetTrigger'
  | 'AddTrigger'
  | 'RemoveTrigger'
  | 'DeleteKeygroup'
  | 'AddUser'
  | 'RemoveUser';

/** Methods a role grants: FReD's own table, so grants made by either system mean the same. */
export const ROLE_METHODS: Readonly<Record<Role, readonly Method[]>> = {
  ReadKeygroup: ['Read'],
  WriteKeygroup: ['Update', 'Delete'],
  ConfigureReplica: ['AddReplica', 'GetReplica', 'RemoveReplica'],
  ConfigureTrigger: ['GetTrigger', 'AddTrigger', 'RemoveTrigger'],
  ConfigureKeygroups: ['DeleteKeygroup', 'AddUser', 'RemoveUser'],
};

/**
 * The stored permission each client-API call needs. FReD has no separate permission for Scan,
 * Keys, Append, GetKeygroupInfo or GetKeygroupTriggers; it checks these, so we must too.
 */
export const CALL_PERMISSION = {
  Read: 'Read',
  Scan: 'Read',
  Keys: 'Read',
  Update: 'Update',
  Append: 'Update',
  Delete: 'Delete',
  AddReplica: 'AddReplica',
  GetReplica: 'GetReplica',
  GetKeygroupInfo: 'GetReplica',
  RemoveReplica: 'RemoveReplica',
  GetKeygroupTriggers: 'GetTrigger',
  AddTrigger: 'AddTrigger',
  RemoveTrigger: 'RemoveTrigger',
  DeleteKeygroup: 'DeleteKeygroup',
  AddUser: 'AddUser',
  RemoveUser: 'RemoveUser',
} as const satisfies Record<string, Method>;

/** What changed, one entry per changed key; listeners re-read what they need. */
export type NamingChange =
  | { kind: 'node'; node: string }
  | { kind: 'keygroup'; keygroup: string }
  | { kind: 'replica'; keygroup: string; node: string }
  | { kind: 'permission'; user: string; keygroup: string }
  | { kind: 'missed'; node: string; keygroup: string; id: string };

export type NamingListener = (change: NamingChange) => void;

export interface NamingService {
  /** Loads the state (EtcdNaming: initial read and watch). Rejects ERR_NAMING_UNAVAILABLE. */
  start(): Promise<void>;
  /** Stops watching and releases connections; later calls reject with ERR_NAMING_CLOSED. */
  close(): Promise<void>;

  /** Creates or replaces a node's two addresses. */
  registerNode(node: NodeRecord): Promise<void>;
  /** A node with both addresses registered, else undefined. */
  getNode(id: string): Promise<NodeRecord | undefined>;
  /** Nodes with both addresses, sorted by id. */
  listNodes(): Promise<NodeRecord[]>;

  /**
   * Creates the keygroup with `node` as its only replica. ERR_KEYGROUP_EXISTS if its status is
   * `created` anywhere in the cluster. Recreating a deleted keygroup clears its old replicas and
   * its old permissions, so users of the previous incarnation get no rights on the new one.
   */
  createKeygroup(request: CreateKeygroupRequest): Promise<void>;
  /** Marks the keygroup deleted. ERR_KEYGROUP_NOT_FOUND unless it exists. */
  deleteKeygroup(name: string): Promise<void>;
  /** undefined unless the keygroup exists (status `created`). */
  getKeygroup(name: string): Promise<KeygroupInfo | undefined>;
  /** Existing keygroups, sorted by name. */
  listKeygroups(): Promise<KeygroupInfo[]>;

  /**
   * Makes `node` a replica with the given expiry, or updates the expiry of an existing one.
   * ERR_KEYGROUP_NOT_FOUND, ERR_NODE_NOT_FOUND (the node has no registered peering address).
   */
  addReplica(keygroup: string, node: string, expiry: number): Promise<void>;
  /**
   * Marks `node` removed. ERR_KEYGROUP_NOT_FOUND, ERR_REPLICA_NOT_FOUND (not a current member),
   * ERR_LAST_REPLICA (it is the only member: delete the keygroup instead).
   */
  removeReplica(keygroup: string, node: string): Promise<void>;

  /** Grants every method of the role. Idempotent. ERR_KEYGROUP_NOT_FOUND. */
  grantRole(user: string, keygroup: string, role: Role): Promise<void>;
  /** Revokes every method of the role. Idempotent. ERR_KEYGROUP_NOT_FOUND. */
  revokeRole(user: string, keygroup: string, role: Role): Promise<void>;
  /** Whether the user may call `method` on the keygroup; false if the keygroup does not exist. */
  isAllowed(user: string, keygroup: string, method: Method): Promise<boolean>;
  /** The user's methods on an existing keygroup, sorted; [] if it does not exist. */
  getPermissions(user: string, keygroup: string): Promise<Method[]>;

  /** Records that `write.node` missed a write (the reference replays these when the node restarts). */
  reportMissed(write: MissedWrite): Promise<void>;
  /** Missed writes of a node, sorted by keygroup then id. */
  listMissed(node: string): Promise<MissedWrite[]>;
  /** Forgets a missed write once it has been repaired. Idempotent. */
  clearMissed(write: MissedWrite): Promise<void>;

  /**
   * Calls the listener after each change is applied locally (own writes and other nodes' writes,
   * including those caught up after a reconnect). Returns the unsubscribe function.
   */
  subscribe(listener: NamingListener): () => void;
}

export type NamingErrorCode =
  | 'ERR_KEYGROUP_EXISTS'
  | 'ERR_KEYGROUP_NOT_FOUND'
  | 'ERR_NODE_NOT_FOUND'
  | 'ERR_REPLICA_NOT_FOUND'
  | 'ERR_LAST_REPLICA'
  | 'ERR_INVALID_NAME'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_NAMING_CONFLICT'
  | 'ERR_NAMING_UNAVAILABLE'
  | 'ERR_NAMING_CLOSED';

export class NamingError extends Error {
  constructor(
    readonly code: NamingErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NamingError';
  }
}

/** Structured logger subset (pino-compatible) for the rare events worth reporting. */
export interface NamingLogger {
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}
