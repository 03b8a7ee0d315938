// In-memory ReplicaStore for tests and ephemeral nodes; same semantics as LevelReplicaStore.
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
  copySibling,
  isExpired,
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

export interface MemoryReplicaStoreOptions {
  nodeId: string;
  clock?: Clock;
  /** Largest accepted value in UTF-8 bytes; 4 MiB by default. */
  maxValueBytes?: number;
}

interface Keygroup {
  info: KeygroupInfo;
  items: Map<string, Sibling[]>;
}

/**
 * Every method does its whole read-modify-write synchronously before its first await, so calls
 * cannot interleave and no lock is needed. Data survives close()/open() of the same instance;
 * everything handed in or out is copied so callers cannot alias stored state.
 */
export class MemoryReplicaStore implements ReplicaStore {
  readonly nodeId: string;
  private readonly clock: Clock;
  private readonly maxValueBytes: number;
  private readonly keygroups = new Map<string, Keygroup>();
  private opened = false;

  constructor(options: MemoryReplicaStoreOptions) {
    if (!isValidNodeId(options.nodeId)) throw new TypeError(`invalid node id ${JSON.stringify(options.nodeId)}`);
    this.nodeId = options.nodeId;
    this.clock = options.clock ?? Date.now;
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  }

  async open(): Promise<void> {
    this.opened = true;
  }

  async close(): Promise<void> {
    this.opened = false;
  }

  async createKeygroup(info: KeygroupInfo): Promise<void> {
    this.assertOpen();
    validateKeygroupInfo(info);
    if (this.keygroups.has(info.name)) {
      throw new StoreError('ERR_KEYGROUP_EXISTS', `keygroup ${info.name} already exists`);
    }
    this.keygroups.set(info.name, { info: { ...info }, items: new Map() });
  }

  async deleteKeygroup(name: string): Promise<void> {
    this.group(name);
    this.keygroups.delete(name);
  }

  async setKeygroupExpiry(name: string, expiry: number): Promise<void> {
    const group = this.group(name);
    validateExpiry(name, expiry);
    group.info = { ...group.info, expiry };
  }

  async getKeygroup(name: string): Promise<KeygroupInfo | undefined> {
    return this.getKeygroupSync(name);
  }

  getKeygroupSync(name: string): KeygroupInfo | undefined {
    this.assertOpen();
    const info = this.keygroups.get(name)?.info;
    return info && { ...info };
  }

  async listKeygroups(): Promise<KeygroupInfo[]> {
    this.assertOpen();
    return [...this.keygroups.keys()].sort().map((name) => ({ ...this.keygroups.get(name)!.info }));
  }

  async read(keygroup: string, id: string): Promise<Sibling[]> {
    return this.readLive(this.group(keygroup), id, this.clock());
  }

  async readMany(keygroup: string, ids: string[]): Promise<Sibling[][]> {
    return this.readManySync(keygroup, ids);
  }

  readManySync(keygroup: string, ids: string[]): Sibling[][] {
    const group = this.group(keygroup);
    const now = this.clock();
    return ids.map((id) => this.readLive(group, id, now));
  }

  async scan(keygroup: string, options: ScanOptions): Promise<LiveItem[]> {
    return this.scanSync(keygroup, options);
  }

  scanSync(keygroup: string, options: ScanOptions): LiveItem[] {
    const group = this.group(keygroup);
    if (options.start !== '') validateId(options.start);
    const now = this.clock();
    const result: LiveItem[] = [];
    if (!(options.count > 0)) return result;
    // Plain sort() orders by UTF-16 code unit, which the port promises.
    const ids = [...group.items.keys()].filter((id) => id >= options.start).sort();
    for (const id of ids) {
      const siblings = liveSiblings(group.items.get(id)!, group.info, now);
      if (siblings.length === 0) continue;
      result.push({ id, siblings: siblings.map(copySibling) });
      if (result.length >= options.count) break;
    }
    return result;
  }

  async applyLocal(writes: LocalWrite[]): Promise<AppliedWrite[]> {
    this.assertOpen();
    const lookup = (name: string) => this.keygroups.get(name)?.info;
    validateWrites(writes, lookup, this.maxValueBytes);
    const plan = planLocalWrites(writes, {
      nodeId: this.nodeId,
      now: this.clock(),
      keygroups: lookup,
      stored: (keygroup, id) => this.keygroups.get(keygroup)!.items.get(id) ?? [],
    });
    for (const item of plan.items) this.keygroups.get(item.keygroup)!.items.set(item.id, item.siblings);
    return plan.applied;
  }

  async applyConditional(write: ConditionalLocalWrite, given: Version[]): Promise<AppliedWrite> {
    this.assertOpen();
    const lookup = (name: string) => this.keygroups.get(name)?.info;
    validateConditional(write, given, lookup, this.maxValueBytes);
    const group = this.keygroups.get(write.keygroup)!;
    const plan = planConditional(write, given, {
      nodeId: this.nodeId,
      now: this.clock(),
      info: group.info,
      stored: group.items.get(write.id) ?? [],
    });
    group.items.set(write.id, plan.siblings);
    return plan.applied;
  }

  async mergeRemote(keygroup: string, id: string, sibling: Omit<Sibling, 'storedAt'>): Promise<boolean> {
    const group = this.group(keygroup);
    const incoming = acceptRemote(group.info, id, sibling, this.clock(), this.maxValueBytes);
    const merged = mergeIncoming(group.items.get(id) ?? [], incoming);
    if (!merged) return false;
    group.items.set(id, merged);
    return true;
  }

  async *dump(keygroup: string): AsyncIterable<{ id: string; siblings: Sibling[] }> {
    const group = this.group(keygroup);
    const now = this.clock();
    for (const id of [...group.items.keys()].sort()) {
      const siblings = unexpiredSiblings(group.items.get(id) ?? [], group.info, now);
      if (siblings.length > 0) yield { id, siblings: siblings.map(copySibling) };
    }
  }

  /** Drops expired siblings (and items left empty). Returns the number of siblings dropped. */
  async purgeExpired(): Promise<number> {
    this.assertOpen();
    const now = this.clock();
    let purged = 0;
    for (const { info, items } of this.keygroups.values()) {
      if (info.expiry <= 0) continue;
      for (const [id, siblings] of items) {
        const kept = siblings.filter((s) => !isExpired(s, info, now));
        purged += siblings.length - kept.length;
        if (kept.length === 0) items.delete(id);
        else if (kept.length < siblings.length) items.set(id, kept);
      }
    }
    return purged;
  }

  private readLive(group: Keygroup, id: string, now: number): Sibling[] {
    validateId(id);
    return liveSiblings(group.items.get(id) ?? [], group.info, now).map(copySibling);
  }

  private group(name: string): Keygroup {
    this.assertOpen();
    requireKeygroup((n) => this.keygroups.get(n)?.info, name);
    return this.keygroups.get(name)!;
  }

  private assertOpen(): void {
    if (!this.opened) throw new StoreError('ERR_STORE_CLOSED', 'the store is not open');
  }
}
