// ReplicaSet: this node's view of which keygroups it replicates and with whom — cached membership,
// joining a keygroup (full copy, then one reconciliation with each member) and leaving it.
import { StoreError, type ReplicaStore } from '../store/port.js';
import type { OriginLedger } from './ages.js';
import type { RetryPolicy } from './delivery.js';
import type { ReplicationLogger } from './logger.js';
import { MembershipUnavailableError, type Member, type Membership } from './membership.js';
import type { TimerHandle, Timers } from './timers.js';
import type { ItemData, PeerTransport, SiblingData } from './transport.js';

export interface ReplicaSetOptions {
  store: ReplicaStore;
  transport: PeerTransport;
  membership: Membership;
  timers: Timers;
  random: () => number;
  logger: ReplicationLogger;
  ledger: OriginLedger;
  retry: RetryPolicy;
  cacheMs: number;
  /** The receive path for one sibling (age admission, ledger); true if stored. */
  merge: (keygroup: string, id: string, sibling: SiblingData) => Promise<boolean>;
  /** One anti-entropy exchange with `peer`; throws if it did not complete. */
  reconcile: (keygroup: string, peer: string) => Promise<void>;
  /** Called when a keygroup's local copy is dropped, to clear per-keygroup state elsewhere. */
  forget: (keygroup: string) => void;
  /** How long a copy released while still listed stays dropped before this node rejoins. */
  dropGraceMs: number;
}

interface JoinProgress {
  /** A member's full copy has been merged. */
  copied: boolean;
  /** Members still to reconcile with once after the copy. */
  reconcile: Set<string>;
  attempts: number;
  timer?: TimerHandle;
}

/**
 * Join and leave are driven by transitions of "this node is a member", as last examined here
 * (start(), membership events, ensureLocal/dropLocal). A node that never saw itself listed is
 * never made to drop anything: only an observed member → non-member transition does that.
 */
export class ReplicaSet {
  readonly self: string;
  private readonly cache = new Map<string, { members: Member[]; at: number }>();
  private readonly wasMember = new Map<string, boolean>();
  private readonly joins = new Map<string, Promise<boolean>>();
  private readonly progress = new Map<string, JoinProgress>();
  /** Keygroups dropped on a peer's word while membership still listed this node (see release). */
  private readonly releases = new Map<string, TimerHandle>();
  private events: Promise<void> = Promise.resolve();
  private unsubscribe?: () => void;
  private running = false;

  constructor(private readonly options: ReplicaSetOptions) {
    this.self = options.membership.self;
  }

  /** Notes current membership of local keygroups and follows changes from then on. */
  async start(): Promise<void> {
    this.running = true;
    this.unsubscribe = this.options.membership.subscribe((keygroup) => {
      this.events = this.events.then(() => this.onChange(keygroup));
    });
    for (const { name } of await this.options.store.listKeygroups()) {
      try {
        this.wasMember.set(name, (await this.members(name, true)).some((m) => m.nodeId === this.self));
      } catch (error) {
        this.options.logger.warn({ keygroup: name, err: error }, 'membership unknown at start');
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    for (const { timer } of this.progress.values()) this.options.timers.clearTimeout(timer);
    this.progress.clear();
    for (const timer of this.releases.values()) this.options.timers.clearTimeout(timer);
    this.releases.clear();
    await Promise.allSettled([this.events, ...this.joins.values()]);
  }

  /**
   * Members of a keygroup, cached for cacheMs unless `fresh`; change events refresh sooner. When
   * the membership service fails, an expired answer is better than none for sending writes, so
   * it is used (not for `fresh` reads, which decide about joining, leaving and refusing peers);
   * without one, MembershipUnavailableError.
   */
  async members(keygroup: string, fresh = false): Promise<Member[]> {
    const now = this.options.timers.now();
    const cached = this.cache.get(keygroup);
    if (!fresh && cached && now - cached.at < this.options.cacheMs) return cached.members;
    let members: Member[];
    try {
      members = await this.options.membership.members(keygroup);
    } catch (error) {
      if (fresh || !cached) throw new MembershipUnavailableError(keygroup, { cause: error });
      this.options.logger.warn({ keygroup, err: error }, 'membership unavailable; using the last answer');
      return cached.members;
    }
    this.cache.set(keygroup, { members, at: now });
    return members;
  }

  /** Fetches the full keygroup from a member and merges it; retried later if nobody answers. */
  join(keygroup: string): Promise<boolean> {
    const running = this.joins.get(keygroup);
    if (running) return running;
    const run = this.fetchAll(keygroup)
      .catch((error) => {
        this.options.logger.warn({ keygroup, err: error }, 'join failed');
        const progress = this.progress.get(keygroup);
        if (progress && this.running) this.retryJoin(keygroup, progress);
        return false;
      })
      .finally(() => this.joins.delete(keygroup));
    this.joins.set(keygroup, run);
    return run;
  }

  /** Creates the local copy of a keygroup this node is a member of, if missing. */
  async ensureLocal(keygroup: string, expiry?: number): Promise<void> {
    const { store, membership, logger } = this.options;
    this.endRelease(keygroup);
    this.wasMember.set(keygroup, true);
    if (await store.getKeygroup(keygroup)) return;
    const mutable = await membership.mutable(keygroup).catch((error: unknown) => {
      throw new MembershipUnavailableError(keygroup, { cause: error });
    });
    if (mutable === undefined) throw new StoreError('ERR_KEYGROUP_NOT_FOUND', `keygroup ${keygroup} does not exist`);
    const own = expiry ?? (await this.members(keygroup, true)).find((m) => m.nodeId === this.self)?.expiry ?? 0;
    try {
      await store.createKeygroup({ name: keygroup, mutable, expiry: own });
      logger.info({ keygroup, expiry: own }, 'replica of keygroup created');
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ERR_KEYGROUP_EXISTS') throw error;
    }
  }

  /** FReD's RemoveReplica/DeleteKeygroup on this node: the local copy goes. */
  async dropLocal(keygroup: string): Promise<void> {
    this.wasMember.set(keygroup, false);
    this.options.ledger.forgetKeygroup(keygroup);
    this.options.forget(keygroup);
    try {
      await this.options.store.deleteKeygroup(keygroup);
      this.options.logger.info({ keygroup }, 'replica of keygroup removed');
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ERR_KEYGROUP_NOT_FOUND') throw error;
    }
  }

  /**
   * A peer told this node to drop its copy (FReD's DeleteKeygroup) while membership still lists
   * it: FReD tells the replica first and updates the naming service right after. The copy goes
   * now; if membership still lists this node after dropGraceMs, the removal did not happen (or
   * the peer had no business asking) and the node rejoins, refilling its copy from the members.
   */
  async release(keygroup: string): Promise<void> {
    await this.dropLocal(keygroup);
    if (!this.running) return;
    this.endRelease(keygroup);
    this.releases.set(
      keygroup,
      this.options.timers.setTimeout(() => {
        this.releases.delete(keygroup);
        void this.rejoinIfListed(keygroup);
      }, this.options.dropGraceMs),
    );
  }

  /** True while a released copy waits out its grace period (no rejoining meanwhile). */
  released(keygroup: string): boolean {
    return this.releases.has(keygroup);
  }

  private endRelease(keygroup: string): void {
    const timer = this.releases.get(keygroup);
    if (timer === undefined) return;
    this.options.timers.clearTimeout(timer);
    this.releases.delete(keygroup);
  }

  private async rejoinIfListed(keygroup: string): Promise<void> {
    if (!this.running) return;
    try {
      if (!(await this.members(keygroup, true)).some((m) => m.nodeId === this.self)) return;
      if (await this.options.store.getKeygroup(keygroup)) return;
      this.options.logger.warn({ keygroup }, 'still a replica after a peer asked to drop the copy: rejoining');
      await this.ensureLocal(keygroup);
      void this.join(keygroup);
    } catch (error) {
      this.options.logger.warn({ keygroup, err: error }, 'rejoin after a dropped copy failed');
    }
  }

  /** Join when this node was added, drop the local copy when it was removed. */
  private async onChange(keygroup: string): Promise<void> {
    if (!this.running) return;
    try {
      const self = (await this.members(keygroup, true)).find((m) => m.nodeId === this.self);
      const isMember = self !== undefined;
      if (!isMember) this.endRelease(keygroup);
      else if (this.releases.has(keygroup)) return;
      const was = this.wasMember.get(keygroup);
      const local = await this.options.store.getKeygroup(keygroup);
      if (isMember && (!local || was === false)) {
        await this.ensureLocal(keygroup);
        void this.join(keygroup);
      } else if (!isMember && was === true) {
        await this.dropLocal(keygroup);
      }
      if (self) {
        this.wasMember.set(keygroup, true);
        // AddReplica on any node may change this replica's expiry; the membership is the authority.
        const current = await this.options.store.getKeygroup(keygroup);
        if (current && current.expiry !== self.expiry) {
          await this.options.store.setKeygroupExpiry(keygroup, self.expiry);
          this.options.logger.info({ keygroup, expiry: self.expiry }, 'replica expiry changed');
        }
      }
    } catch (error) {
      this.options.logger.warn({ keygroup, err: error }, 'membership change not applied');
    }
  }

  /**
   * Joining is done when (1) one member's full copy has been merged and (2) every other member
   * has been reconciled with once by a digest exchange. (2) closes the gap of writes a member
   * made before it learned about this node: they went only to the old members and may not have
   * reached the member that supplied the copy yet. Each member's own writes are in its store, and
   * answering this node's request makes it re-read membership, so it sends later writes here.
   */
  private async fetchAll(keygroup: string): Promise<boolean> {
    const { transport, random, logger } = this.options;
    const progress = this.progress.get(keygroup) ?? { copied: false, reconcile: new Set<string>(), attempts: 0 };
    this.progress.set(keygroup, progress);
    // A retry of a keygroup this node has since left (or that was deleted) ends here.
    if (!(await this.options.store.getKeygroup(keygroup))) {
      this.progress.delete(keygroup);
      return false;
    }
    const others = (await this.members(keygroup, true)).filter((m) => m.nodeId !== this.self).map((m) => m.nodeId);
    if (!progress.copied) {
      const start = Math.floor(random() * others.length);
      for (const peer of [...others.slice(start), ...others.slice(0, start)]) {
        let items: ItemData[];
        try {
          items = await transport.getAllItems(peer, { keygroup });
        } catch (error) {
          logger.debug({ keygroup, peer, err: error }, 'join: member did not answer');
          continue;
        }
        const merged = await this.mergeAll(keygroup, peer, items);
        logger.info({ keygroup, peer, items: items.length, merged }, 'join: full copy merged');
        progress.copied = true;
        progress.reconcile = new Set(others.filter((o) => o !== peer));
        break;
      }
    }
    if (progress.copied) {
      for (const peer of [...progress.reconcile]) {
        try {
          await this.options.reconcile(keygroup, peer);
          progress.reconcile.delete(peer);
        } catch (error) {
          logger.debug({ keygroup, peer, err: error }, 'join: member not reconciled yet');
        }
      }
      if (progress.reconcile.size === 0) {
        this.progress.delete(keygroup);
        logger.info({ keygroup }, 'joined keygroup');
        return true;
      }
    }
    if (others.length > 0 && this.running) this.retryJoin(keygroup, progress);
    else this.progress.delete(keygroup);
    return false;
  }

  private async mergeAll(keygroup: string, peer: string, items: ItemData[]): Promise<number> {
    let merged = 0;
    for (const item of items) {
      try {
        if (await this.options.merge(keygroup, item.id, item)) merged++;
      } catch (error) {
        this.options.logger.warn({ keygroup, peer, id: item.id, err: error }, 'join: item rejected');
      }
    }
    return merged;
  }

  private retryJoin(keygroup: string, progress: JoinProgress): void {
    const { retry, random, timers } = this.options;
    progress.attempts++;
    const delay = Math.min(retry.maxMs, retry.baseMs * 2 ** progress.attempts) * (0.5 + random() / 2);
    timers.clearTimeout(progress.timer);
    progress.timer = timers.setTimeout(() => {
      progress.timer = undefined;
      if (this.running && this.wasMember.get(keygroup) !== false) void this.join(keygroup);
    }, delay);
  }
}
