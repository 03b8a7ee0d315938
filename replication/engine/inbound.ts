// The receiving side of replication: peer messages and requests checked and applied to the store.
// Receivers never forward: a merged write reaches other replicas only from its writer's outbox
// or through anti-entropy.
import { StoreError, type ReplicaStore, type Sibling } from '../store/port.js';
import { admits, type OriginLedger } from './ages.js';
import type { Member } from './membership.js';
import type { Timers } from './timers.js';
import {
  PeerRequestError,
  type ItemData,
  type ItemRequest,
  type KeygroupRequest,
  type PeerMessage,
  type SiblingData,
} from './transport.js';

export interface InboundOptions {
  self: string;
  store: ReplicaStore;
  timers: Timers;
  ledger: OriginLedger;
  verifyMembers: boolean;
  members: (keygroup: string, fresh?: boolean) => Promise<Member[]>;
  ensureLocal: (keygroup: string, expiry?: number) => Promise<void>;
  dropLocal: (keygroup: string) => Promise<void>;
  /** Drops the copy while membership still lists this node, rejoining later if it still does. */
  release: (keygroup: string) => Promise<void>;
  released: (keygroup: string) => boolean;
  /** Fetches the keygroup from its members; resolves true once joined, false if it is retried later. */
  join: (keygroup: string) => Promise<boolean>;
  changed: (keygroup: string) => void;
}

/** Ages from the wire: anything but a non-negative finite number counts as 0 (fresh). */
function wireAge(age: unknown): number {
  return typeof age === 'number' && Number.isFinite(age) && age > 0 ? age : 0;
}

export class Inbound {
  constructor(private readonly options: InboundOptions) {}

  async handle(from: string, message: PeerMessage): Promise<void> {
    switch (message?.type) {
      case 'putItem':
      case 'appendItem': {
        const { keygroup, id } = message;
        await this.requireMember(from, keygroup);
        await this.localOrJoin(keygroup);
        const sibling: SiblingData =
          message.type === 'putItem'
            ? { value: message.value, version: message.version, tombstone: message.tombstone === true, age: message.age }
            : { value: message.value, version: {}, tombstone: false, age: message.age };
        await this.merge(keygroup, id, sibling);
        return;
      }
      case 'createKeygroup': {
        const { keygroup, expiry } = message;
        if (typeof expiry !== 'number' || !Number.isFinite(expiry) || expiry < 0) {
          throw new PeerRequestError('ERR_INVALID_PEER_MESSAGE', `invalid expiry for keygroup ${keygroup}`);
        }
        await this.requireMember(from, keygroup);
        await this.options.ensureLocal(keygroup, expiry);
        // Answered once the copy is in (or the attempt failed and is being retried): the
        // inviter's AddReplica then returns with the data readable here, as FReD's does (it sends
        // every item before answering), instead of this replica answering NOT_FOUND meanwhile.
        await this.options.join(keygroup);
        return;
      }
      case 'deleteKeygroup': {
        // FReD tells a replica to drop its copy before it updates the naming service (removal
        // and keygroup deletion alike), so this node may still be listed: the copy goes, and if
        // the listing stays, the node rejoins after a grace period (replica-set.ts release), so
        // no peer can make a replica lose data the cluster still expects it to hold.
        // While this node is listed, only another member may ask (FReD's remover holds a copy).
        const { keygroup } = message;
        const members = await this.options.members(keygroup, true);
        if (!members.some((m) => m.nodeId === this.options.self)) {
          await this.options.dropLocal(keygroup);
        } else if (members.some((m) => m.nodeId === from)) {
          await this.options.release(keygroup);
        } else {
          throw new PeerRequestError('ERR_STILL_A_MEMBER', `this node is still a replica of keygroup ${keygroup}, and ${from} is not`);
        }
        return;
      }
      default:
        throw new PeerRequestError('ERR_INVALID_PEER_MESSAGE', `unknown peer message ${JSON.stringify((message as { type?: unknown })?.type)}`);
    }
  }

  async getItem(from: string, { keygroup, id }: ItemRequest): Promise<ItemData[]> {
    await this.requireMember(from, keygroup);
    const now = this.options.timers.now();
    // The store port has no raw read of one item (tombstones included), so this scans the dump.
    for await (const item of this.options.store.dump(keygroup)) {
      if (item.id === id) return item.siblings.map((s) => this.itemData(keygroup, id, s, now));
    }
    return [];
  }

  async getAllItems(from: string, { keygroup }: KeygroupRequest): Promise<ItemData[]> {
    await this.requireMember(from, keygroup);
    const now = this.options.timers.now();
    const items: ItemData[] = [];
    for await (const item of this.options.store.dump(keygroup)) {
      for (const s of item.siblings) items.push(this.itemData(keygroup, item.id, s, now));
    }
    return items;
  }

  /** Refuses `from` unless it is a member of the keygroup (re-checked fresh before refusing). */
  async requireMember(from: string, keygroup: string): Promise<void> {
    if (!this.options.verifyMembers) return;
    const has = (members: Member[]) => members.some((m) => m.nodeId === from);
    if (has(await this.options.members(keygroup)) || has(await this.options.members(keygroup, true))) return;
    throw new PeerRequestError('ERR_NOT_A_MEMBER', `${from} is not a replica of keygroup ${keygroup}`);
  }

  /**
   * Merges one sibling from a peer. A sibling at least as old as this replica's expiry is not
   * stored (see ages.ts); one stored with a known age has its origin recorded.
   */
  async merge(keygroup: string, id: string, sibling: SiblingData): Promise<boolean> {
    const { store, timers, ledger } = this.options;
    const info = await store.getKeygroup(keygroup);
    if (!info) throw new StoreError('ERR_KEYGROUP_NOT_FOUND', `keygroup ${keygroup} does not exist`);
    // The store merges any sibling into any keygroup; FReD's write rules need versioned
    // siblings in mutable keygroups and unversioned appends in immutable ones.
    if (info.mutable === (Object.keys(sibling.version ?? {}).length === 0 && !sibling.tombstone)) {
      throw new StoreError(
        'ERR_WRONG_MUTABILITY',
        `keygroup ${keygroup} is ${info.mutable ? 'mutable: writes need a version' : 'immutable: only appends are allowed'}`,
      );
    }
    const age = wireAge(sibling.age);
    if (!admits(info.expiry, age)) return false;
    const changed = await store.mergeRemote(keygroup, id, {
      value: sibling.value,
      version: sibling.version,
      tombstone: sibling.tombstone,
    });
    if (changed) {
      this.options.changed(keygroup);
      ledger.record(keygroup, id, sibling.version, timers.now(), age, info.expiry);
    }
    return changed;
  }

  /** A write for a keygroup this node lacks but is a member of means it has not joined yet. */
  private async localOrJoin(keygroup: string): Promise<void> {
    if (await this.options.store.getKeygroup(keygroup)) return;
    if (this.options.released(keygroup)) return;
    if (!(await this.options.members(keygroup, true)).some((m) => m.nodeId === this.options.self)) return;
    await this.options.ensureLocal(keygroup);
    void this.options.join(keygroup);
  }

  private itemData(keygroup: string, id: string, s: Sibling, now: number): ItemData {
    const age = this.options.ledger.ageOf(keygroup, id, s, now);
    return { id, value: s.value, version: s.version, tombstone: s.tombstone, age };
  }
}
