// In-memory image of the FReD naming keys with indexes for the reads; the one place reads are answered.
//
// Both implementations keep their whole state here: MemoryNaming applies its own writes,
// EtcdNaming applies etcd's watch events in revision order. Every value is the raw FReD string,
// so the image is exactly what etcd holds (restricted to FReD's keys).
import type { KeygroupInfo, Method, MissedWrite, NamingChange, NamingListener, NamingLogger, NodeRecord, Replica } from './port.js';
import { KG_CREATED, MEMBER_OK, parseExpiry, parseKey, type ParsedKey } from './schema.js';

export interface Entry {
  value: string;
  /** Revision of the last write of this key (etcd mod_revision; MemoryNaming counts its own). */
  mod: number;
}

/** One key's new value (undefined = deleted) at revision `mod`. */
export interface KeyUpdate {
  key: string;
  value: string | undefined;
  mod: number;
}

interface KeygroupIndex {
  status?: string;
  mutable?: string;
  /** node → `ok` | `removed` */
  members: Map<string, string>;
  /** node → raw expiry string */
  expiry: Map<string, string>;
}

export class NamingState {
  /** Highest revision applied (every update of a batch has mod ≤ revision). */
  revision = 0;
  private readonly entries = new Map<string, Entry>();
  private readonly nodes = new Map<string, { address?: string; extAddress?: string }>();
  private readonly kgs = new Map<string, KeygroupIndex>();
  /** keygroup → user → methods; keygroup first so a keygroup's grants are found without a scan. */
  private readonly perms = new Map<string, Map<string, Set<string>>>();
  /** node → `kg|id` → write */
  private readonly missedByNode = new Map<string, Map<string, MissedWrite>>();

  get(key: string): string | undefined {
    return this.entries.get(key)?.value;
  }

  /** Every key and value, sorted by key. */
  snapshot(): Record<string, string> {
    return Object.fromEntries([...this.entries.entries()].map(([k, e]) => [k, e.value] as const).sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  /** Applies a batch (one revision or one watch response) and returns the distinct changes. */
  apply(updates: readonly KeyUpdate[], revision: number): NamingChange[] {
    const changes = new Map<string, NamingChange>();
    for (const u of updates) {
      const change = this.applyOne(u);
      if (change) changes.set(JSON.stringify(change), change);
    }
    this.revision = Math.max(this.revision, revision);
    return [...changes.values()];
  }

  /** Replaces everything with a full read taken at `revision`, returning what differs. */
  replaceAll(entries: ReadonlyMap<string, Entry>, revision: number): NamingChange[] {
    const updates: KeyUpdate[] = [];
    for (const [key, old] of this.entries) {
      if (!entries.has(key)) updates.push({ key, value: undefined, mod: revision });
      else if (entries.get(key)!.value !== old.value || entries.get(key)!.mod !== old.mod) updates.push({ key, ...entries.get(key)! });
    }
    for (const [key, e] of entries) if (!this.entries.has(key)) updates.push({ key, ...e });
    const changes = this.apply(updates, revision);
    this.revision = revision; // a full read defines the revision even if it moved backwards (etcd restored)
    return changes;
  }

  // ---- reads -------------------------------------------------------------------------------

  node(id: string): NodeRecord | undefined {
    const n = this.nodes.get(id);
    if (n?.address === undefined || n.extAddress === undefined) return undefined;
    return { id, address: n.address, extAddress: n.extAddress };
  }

  listNodes(): NodeRecord[] {
    return [...this.nodes.keys()].sort().flatMap((id) => this.node(id) ?? []);
  }

  /** The keygroup's raw status (`created`, `deleted`) or undefined. */
  status(keygroup: string): string | undefined {
    return this.kgs.get(keygroup)?.status;
  }

  exists(keygroup: string): boolean {
    return this.status(keygroup) === KG_CREATED;
  }

  keygroup(name: string): KeygroupInfo | undefined {
    const kg = this.kgs.get(name);
    if (!kg || kg.status !== KG_CREATED) return undefined;
    const replicas: Replica[] = [...kg.members]
      .filter(([, status]) => status === MEMBER_OK)
      .map(([node]) => ({ node, expiry: parseExpiry(kg.expiry.get(node)) }))
      .sort((a, b) => (a.node < b.node ? -1 : 1));
    return { name, mutable: kg.mutable === 'true', replicas };
  }

  listKeygroups(): KeygroupInfo[] {
    return [...this.kgs.keys()].sort().flatMap((name) => this.keygroup(name) ?? []);
  }

  /** node → raw membership status, for every member key of the keygroup (ok and removed). */
  memberStatuses(keygroup: string): ReadonlyMap<string, string> {
    return this.kgs.get(keygroup)?.members ?? new Map();
  }

  methods(user: string, keygroup: string): Method[] {
    return [...(this.perms.get(keygroup)?.get(user) ?? [])].sort() as Method[];
  }

  /** Every stored permission key of a keygroup, whoever it belongs to. */
  permissionKeys(keygroup: string): Array<{ user: string; method: string }> {
    const out: Array<{ user: string; method: string }> = [];
    for (const [user, methods] of this.perms.get(keygroup) ?? []) for (const method of methods) out.push({ user, method });
    return out;
  }

  missed(node: string): MissedWrite[] {
    return [...(this.missedByNode.get(node)?.values() ?? [])].sort((a, b) =>
      a.keygroup === b.keygroup ? (a.id < b.id ? -1 : 1) : a.keygroup < b.keygroup ? -1 : 1,
    );
  }

  // ---- index maintenance -------------------------------------------------------------------

  private applyOne(u: KeyUpdate): NamingChange | undefined {
    const parsed = parseKey(u.key);
    if (!parsed) return undefined; // not a FReD key: never cached
    const old = this.entries.get(u.key);
    if (u.value === undefined) {
      if (!old) return undefined;
      this.entries.delete(u.key);
    } else {
      if (old && old.value === u.value && old.mod === u.mod) return undefined;
      this.entries.set(u.key, { value: u.value, mod: u.mod });
      if (old && old.value === u.value) return undefined; // rewritten with the same value: nothing to tell
    }
    this.index(parsed, u.value);
    return changeOf(parsed);
  }

  private index(p: ParsedKey, value: string | undefined): void {
    switch (p.kind) {
      case 'nodeAddress':
      case 'nodeExtAddress': {
        const n: { address?: string; extAddress?: string } = this.nodes.get(p.node) ?? {};
        if (p.kind === 'nodeAddress') n.address = value;
        else n.extAddress = value;
        if (n.address === undefined && n.extAddress === undefined) this.nodes.delete(p.node);
        else this.nodes.set(p.node, n);
        return;
      }
      case 'kgStatus':
      case 'kgMutable':
      case 'kgMember':
      case 'kgExpiry': {
        const kg: KeygroupIndex = this.kgs.get(p.keygroup) ?? { members: new Map(), expiry: new Map() };
        if (p.kind === 'kgStatus') kg.status = value;
        else if (p.kind === 'kgMutable') kg.mutable = value;
        else setOrDelete(p.kind === 'kgMember' ? kg.members : kg.expiry, p.node, value);
        const empty = kg.status === undefined && kg.mutable === undefined && kg.members.size === 0 && kg.expiry.size === 0;
        if (empty) this.kgs.delete(p.keygroup);
        else this.kgs.set(p.keygroup, kg);
        return;
      }
      case 'permission': {
        const users = this.perms.get(p.keygroup) ?? new Map<string, Set<string>>();
        const methods = users.get(p.user) ?? new Set<string>();
        if (value === undefined) methods.delete(p.method);
        else methods.add(p.method);
        if (methods.size === 0) users.delete(p.user);
        else users.set(p.user, methods);
        if (users.size === 0) this.perms.delete(p.keygroup);
        else this.perms.set(p.keygroup, users);
        return;
      }
      case 'missed': {
        const writes = this.missedByNode.get(p.node) ?? new Map<string, MissedWrite>();
        const id = `${p.keygroup}|${p.id}`;
        if (value === undefined) writes.delete(id);
        else writes.set(id, { node: p.node, keygroup: p.keygroup, id: p.id });
        if (writes.size === 0) this.missedByNode.delete(p.node);
        else this.missedByNode.set(p.node, writes);
        return;
      }
    }
  }
}

function setOrDelete(map: Map<string, string>, key: string, value: string | undefined): void {
  if (value === undefined) map.delete(key);
  else map.set(key, value);
}

function changeOf(p: ParsedKey): NamingChange {
  switch (p.kind) {
    case 'nodeAddress':
    case 'nodeExtAddress':
      return { kind: 'node', node: p.node };
    case 'kgStatus':
    case 'kgMutable':
      return { kind: 'keygroup', keygroup: p.keygroup };
    case 'kgMember':
    case 'kgExpiry':
      return { kind: 'replica', keygroup: p.keygroup, node: p.node };
    case 'permission':
      return { kind: 'permission', user: p.user, keygroup: p.keygroup };
    case 'missed':
      return { kind: 'missed', node: p.node, keygroup: p.keygroup, id: p.id };
  }
}

/** Calls every listener with every change; a throwing listener never breaks the writer or the others. */
export function notify(listeners: Iterable<NamingListener>, changes: readonly NamingChange[], logger?: NamingLogger): void {
  for (const change of changes) {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (err) {
        logger?.warn({ err, change }, 'naming change listener threw');
      }
    }
  }
}
