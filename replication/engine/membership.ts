// The Membership port (who replicates which keygroup, with which expiry) and an in-memory registry.
// In a node it is backed by the naming service (etcd keys kg|<K>|node|<N>, kg|<K>|expiry|node|<N>).

export interface Member {
  nodeId: string;
  /** Seconds after which items expire on that replica; 0 = never. */
  expiry: number;
}

export interface Membership {
  /** This node's id. */
  readonly self: string;
  /**
   * Current replicas of a keygroup; [] when the keygroup does not exist. Must throw when the
   * answer is unknown (naming service unreachable): the engine reads "self not listed" as
   * "this node was removed" and drops its copy.
   */
  members(keygroup: string): Promise<Member[]>;
  /** Whether an existing keygroup is mutable; undefined when it does not exist. */
  mutable(keygroup: string): Promise<boolean | undefined>;
  /** `listener(keygroup)` runs after the replicas of a keygroup (or their expiries) changed. */
  subscribe(listener: (keygroup: string) => void): () => void;
}

/**
 * The membership of a keygroup could not be read (e.g. the naming service is unreachable). The
 * engine refuses peer requests it cannot check with this error; it means "retry later", never
 * "rejected": a sender keeps the write in its outbox (gRPC UNAVAILABLE, see grpc/status.ts).
 */
export class MembershipUnavailableError extends Error {
  readonly code = 'ERR_MEMBERSHIP_UNAVAILABLE';
  constructor(
    readonly keygroup: string,
    options?: { cause?: unknown },
  ) {
    super(`membership of keygroup ${keygroup} is unavailable`, options);
    this.name = 'MembershipUnavailableError';
  }
}

interface KeygroupRecord {
  mutable: boolean;
  members: Map<string, number>;
}

/**
 * A cluster-wide membership table shared by in-process nodes (tests, single-process clusters).
 * Listeners are notified in a microtask, after the change is visible, as a watch would.
 */
export class MemoryMembershipRegistry {
  private readonly keygroups = new Map<string, KeygroupRecord>();
  private readonly listeners = new Set<(keygroup: string) => void>();

  /** The Membership port as seen by one node. */
  view(self: string): Membership {
    return {
      self,
      members: async (keygroup) => this.members(keygroup),
      mutable: async (keygroup) => this.keygroups.get(keygroup)?.mutable,
      subscribe: (listener) => {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
      },
    };
  }

  members(keygroup: string): Member[] {
    const record = this.keygroups.get(keygroup);
    if (!record) return [];
    return [...record.members].sort(([a], [b]) => (a < b ? -1 : 1)).map(([nodeId, expiry]) => ({ nodeId, expiry }));
  }

  createKeygroup(keygroup: string, options: { mutable: boolean; members: Member[] }): void {
    if (this.keygroups.has(keygroup)) throw new Error(`keygroup ${keygroup} exists`);
    this.keygroups.set(keygroup, {
      mutable: options.mutable,
      members: new Map(options.members.map((m) => [m.nodeId, m.expiry])),
    });
    this.notify(keygroup);
  }

  addReplica(keygroup: string, member: Member): void {
    this.record(keygroup).members.set(member.nodeId, member.expiry);
    this.notify(keygroup);
  }

  removeReplica(keygroup: string, nodeId: string): void {
    this.record(keygroup).members.delete(nodeId);
    this.notify(keygroup);
  }

  deleteKeygroup(keygroup: string): void {
    this.record(keygroup);
    this.keygroups.delete(keygroup);
    this.notify(keygroup);
  }

  private record(keygroup: string): KeygroupRecord {
    const record = this.keygroups.get(keygroup);
    if (!record) throw new Error(`keygroup ${keygroup} does not exist`);
    return record;
  }

  private notify(keygroup: string): void {
    queueMicrotask(() => {
      for (const listener of [...this.listeners]) listener(keygroup);
    });
  }
}

/** One write a node missed: FReD's `failnode|<node>|kg|<keygroup>|<id>` record in the naming service. */
export interface MissedWrite {
  node: string;
  keygroup: string;
  id: string;
}

/**
 * FReD's record of missed writes (kept in the naming service). A FReD node records every write it
 * could not deliver and, at its start, fetches each item it missed from another replica and
 * forgets the record; the engine does both, and replays its own records whenever they appear.
 */
export interface MissedWrites {
  report(write: MissedWrite): Promise<void>;
  /** This node's records. */
  list(node: string): Promise<MissedWrite[]>;
  clear(write: MissedWrite): Promise<void>;
  /** `listener` runs after a record for `node` was added. */
  watch(node: string, listener: () => void): () => void;
}

/** MissedWrites shared by in-process nodes (tests, single-process clusters); watchers hear in a microtask. */
export class MemoryMissedWrites implements MissedWrites {
  private readonly records = new Map<string, MissedWrite>();
  private readonly watchers = new Set<{ node: string; listener: () => void }>();

  async report(write: MissedWrite): Promise<void> {
    const key = `${write.node}|${write.keygroup}|${write.id}`;
    if (this.records.has(key)) return;
    this.records.set(key, { ...write });
    queueMicrotask(() => {
      for (const w of [...this.watchers]) if (w.node === write.node) w.listener();
    });
  }

  async list(node: string): Promise<MissedWrite[]> {
    return [...this.records.values()].filter((w) => w.node === node).sort((a, b) => (a.keygroup + a.id < b.keygroup + b.id ? -1 : 1));
  }

  async clear(write: MissedWrite): Promise<void> {
    this.records.delete(`${write.node}|${write.keygroup}|${write.id}`);
  }

  watch(node: string, listener: () => void): () => void {
    const entry = { node, listener };
    this.watchers.add(entry);
    return () => this.watchers.delete(entry);
  }
}
