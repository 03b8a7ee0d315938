// Anti-entropy: two replicas compare bucket digests of a keygroup and repair the differing buckets
// in both directions, whatever made them diverge (lost outbox, partition, late replica).
//
// One exchange, initiated by A towards B:
//   A → B  DigestRequest (A's bucket hashes, computed over siblings younger than the pair horizon)
//   B → A  DigestResponse (differing bucket indices + B's items in those buckets)
//   A merges what B has and A lacks; A sends B (PutItem/AppendItem) what A has and B lacks.
// Equal replicas cost one round trip carrying O(buckets) hashes. Everything is idempotent: a
// repeated or concurrent exchange only re-merges what is already there.
import type { ReplicaStore } from '../store/port.js';
import { compare } from '../store/version.js';
import { admits, horizonOf, type OriginLedger } from './ages.js';
import { DigestBuilder, bucketCountFor, bucketOf, differingBuckets, isValidBucketCount } from './digest.js';
import type { ReplicationLogger } from './logger.js';
import type { Member } from './membership.js';
import type { Timers } from './timers.js';
import {
  PeerRequestError,
  isPeerUnsupported,
  type DigestRequest,
  type DigestResponse,
  type PeerMessage,
  type PeerTransport,
  type SiblingData,
} from './transport.js';

export interface AntiEntropyOptions {
  store: ReplicaStore;
  transport: PeerTransport;
  timers: Timers;
  ledger: OriginLedger;
  random: () => number;
  logger: ReplicationLogger;
  /** Differing buckets repaired per exchange; the rest wait for the next round. */
  maxBuckets: number;
  /** How long an unchanged digest may be reused (only for keygroups where nothing ages). */
  cacheMs: number;
  /** The receive path for one sibling from a peer (age admission, ledger). True if stored. */
  merge: (keygroup: string, id: string, sibling: SiblingData) => Promise<boolean>;
}

export interface ExchangeResult {
  equal: boolean;
  /** Siblings merged here from the peer. */
  pulled: number;
  /** Siblings sent to the peer. */
  pushed: number;
}

type Items = Map<string, SiblingData[]>;

const PUSH_CONCURRENCY = 32;

/** True when `list` holds a version equal to or newer than `sibling`'s: sending it changes nothing. */
function covered(list: readonly SiblingData[] | undefined, sibling: SiblingData): boolean {
  return !!list?.some((s) => {
    const order = compare(s.version, sibling.version);
    return order === 'equal' || order === 'after';
  });
}

export function siblingMessage(keygroup: string, id: string, s: SiblingData): PeerMessage {
  if (!s.tombstone && Object.keys(s.version).length === 0) return { type: 'appendItem', keygroup, id, value: s.value, age: s.age };
  return { type: 'putItem', keygroup, id, value: s.value, tombstone: s.tombstone, version: s.version, age: s.age };
}

export class AntiEntropy {
  /** Items last counted per keygroup; sizes the next digest. */
  private readonly counts = new Map<string, number>();
  private readonly generations = new Map<string, number>();
  private readonly cache = new Map<string, { key: string; generation: number; at: number; hashes: string[] }>();

  constructor(private readonly options: AntiEntropyOptions) {}

  /** Invalidates cached digests; called for every write the engine applies or sees. */
  changed(keygroup: string): void {
    this.generations.set(keygroup, (this.generations.get(keygroup) ?? 0) + 1);
  }

  forget(keygroup: string): void {
    this.counts.delete(keygroup);
    this.cache.delete(keygroup);
    this.changed(keygroup);
  }

  /** Initiator side of one exchange with `peer` about `keygroup`. */
  async exchange(keygroup: string, self: Member, peer: Member): Promise<ExchangeResult> {
    const horizon = horizonOf(self.expiry, peer.expiry);
    const buckets = bucketCountFor(this.counts.get(keygroup) ?? 0);
    const hashes = await this.digest(keygroup, buckets, horizon);
    const response = await this.options.transport.exchangeDigest(peer.nodeId, {
      keygroup,
      buckets,
      horizon,
      hashes,
      maxBuckets: this.options.maxBuckets,
    });
    const differing = (response.differing ?? []).filter((b) => Number.isInteger(b) && b >= 0 && b < buckets);
    if (differing.length === 0) return { equal: true, pulled: 0, pushed: 0 };

    const mine = await this.collect(keygroup, buckets, new Set(differing), horizon);
    const theirs: Items = new Map((response.items ?? []).map((item) => [item.id, item.siblings]));
    const { pulled, pushes } = await this.differences(keygroup, peer, mine, theirs, { pull: true, what: 'anti-entropy' });
    const pushed = await this.push(peer.nodeId, pushes);
    return { equal: false, pulled, pushed };
  }

  /**
   * Merges what the peer has and this replica lacks (with `pull`), and lists what the peer lacks
   * of ours (within the peer's expiry) to push.
   */
  private async differences(
    keygroup: string,
    peer: Member,
    mine: Items,
    theirs: Items,
    options: { pull: boolean; what: string },
  ): Promise<{ pulled: number; pushes: PeerMessage[] }> {
    let pulled = 0;
    if (options.pull) {
      for (const [id, siblings] of theirs) {
        for (const sibling of siblings) {
          if (covered(mine.get(id), sibling)) continue;
          try {
            if (await this.options.merge(keygroup, id, sibling)) pulled++;
          } catch (error) {
            // One malformed sibling must not block the repair of everything else, round after round.
            this.options.logger.warn({ keygroup, peer: peer.nodeId, id, err: error }, `${options.what}: sibling rejected`);
          }
        }
      }
    }
    const pushes: PeerMessage[] = [];
    for (const [id, siblings] of mine) {
      for (const sibling of siblings) {
        if (admits(peer.expiry, sibling.age ?? 0) && !covered(theirs.get(id), sibling)) pushes.push(siblingMessage(keygroup, id, sibling));
      }
    }
    return { pulled, pushes };
  }

  /** Sends `pushes` to `peer`, a batch at a time; throws the first failure after its batch. */
  private async push(peer: string, pushes: PeerMessage[]): Promise<number> {
    let pushed = 0;
    for (let i = 0; i < pushes.length; i += PUSH_CONCURRENCY) {
      const results = await Promise.allSettled(pushes.slice(i, i + PUSH_CONCURRENCY).map((m) => this.options.transport.send(peer, m)));
      pushed += results.filter((r) => r.status === 'fulfilled').length;
      const failure = results.find((r) => r.status === 'rejected');
      if (failure) throw (failure as PromiseRejectedResult).reason;
    }
    return pushed;
  }

  /**
   * One exchange, or, with a peer that has no digest exchange (a FReD node), a full exchange
   * pulling its whole copy: what joining needs from every member, whatever it runs.
   */
  async reconcile(keygroup: string, self: Member, peer: Member): Promise<ExchangeResult> {
    try {
      return await this.exchange(keygroup, self, peer);
    } catch (error) {
      if (!isPeerUnsupported(error)) throw error;
      return this.fullExchange(keygroup, self, peer, { pull: true });
    }
  }

  /**
   * The exchange with a peer that has no digest exchange (a FReD node), over FReD's own calls:
   * its full copy (GetAllItems) is compared with ours; what it lacks is sent (PutItem/AppendItem,
   * as FReD's AddReplica sends a new replica every item) and, with `pull`, what we lack is merged.
   * FReD's copy carries no ages, so where anything expires (a non-zero pair horizon) nothing is
   * pulled except when joining: an item that expired here must not come back every round. Costs a
   * full copy per call: rounds run it at the anti-entropy interval.
   */
  async fullExchange(keygroup: string, self: Member, peer: Member, options: { pull: boolean }): Promise<ExchangeResult> {
    const theirs: Items = new Map();
    for (const item of await this.options.transport.getAllItems(peer.nodeId, { keygroup })) {
      const list = theirs.get(item.id) ?? [];
      list.push({ value: item.value, version: item.version, tombstone: item.tombstone, age: item.age });
      theirs.set(item.id, list);
    }
    const horizon = horizonOf(self.expiry, peer.expiry);
    const mine: Items = new Map();
    for await (const { id, siblings } of this.view(keygroup, horizon)) mine.set(id, siblings);
    const { pulled, pushes } = await this.differences(keygroup, peer, mine, theirs, { pull: options.pull, what: 'full exchange' });
    const pushed = await this.push(peer.nodeId, pushes);
    return { equal: pulled === 0 && pushes.length === 0, pulled, pushed };
  }

  /** Responder side: compares the initiator's digest with ours over the same horizon. */
  async respond(request: DigestRequest): Promise<DigestResponse> {
    const { keygroup, buckets, horizon, hashes, maxBuckets } = request;
    if (
      !isValidBucketCount(buckets) ||
      !Array.isArray(hashes) ||
      hashes.length !== buckets ||
      !(Number.isFinite(horizon) && horizon >= 0) ||
      !(Number.isInteger(maxBuckets) && maxBuckets >= 1)
    ) {
      throw new PeerRequestError('ERR_INVALID_PEER_MESSAGE', `malformed digest request for keygroup ${keygroup}`);
    }
    const mine = await this.digest(keygroup, buckets, horizon);
    const offset = Math.floor(this.options.random() * buckets);
    const differing = differingBuckets(mine, hashes, maxBuckets, offset);
    if (differing.length === 0) return { differing, items: [] };
    const items = await this.collect(keygroup, buckets, new Set(differing), horizon);
    return { differing, items: [...items].map(([id, siblings]) => ({ id, siblings })) };
  }

  private async digest(keygroup: string, buckets: number, horizon: number): Promise<string[]> {
    const now = this.options.timers.now();
    const generation = this.generations.get(keygroup) ?? 0;
    const key = `${buckets}/${horizon}`;
    const cached = this.cache.get(keygroup);
    if (cached && cached.key === key && cached.generation === generation && now - cached.at < this.options.cacheMs) {
      return cached.hashes;
    }
    const builder = new DigestBuilder(buckets);
    for await (const { id, siblings } of this.view(keygroup, horizon)) builder.add(id, siblings);
    const hashes = builder.hashes();
    this.counts.set(keygroup, builder.items);
    // Siblings age out of the horizon and out of local expiry, so only a keygroup where nothing
    // ages can reuse a digest until the next change.
    const info = await this.options.store.getKeygroup(keygroup);
    if (horizon === 0 && info?.expiry === 0) this.cache.set(keygroup, { key, generation, at: now, hashes });
    return hashes;
  }

  private async collect(keygroup: string, buckets: number, wanted: Set<number>, horizon: number): Promise<Items> {
    const items: Items = new Map();
    for await (const { id, siblings } of this.view(keygroup, horizon)) {
      if (wanted.has(bucketOf(id, buckets))) items.set(id, siblings);
    }
    return items;
  }

  /** The keygroup as exchanged with one peer: siblings younger than the horizon, with ages. */
  private async *view(keygroup: string, horizon: number): AsyncIterable<{ id: string; siblings: SiblingData[] }> {
    const { store, ledger, timers } = this.options;
    const now = timers.now();
    for await (const item of store.dump(keygroup)) {
      const siblings: SiblingData[] = [];
      for (const s of item.siblings) {
        const age = ledger.ageOf(keygroup, item.id, s, now);
        if (horizon > 0 && age >= horizon) continue;
        siblings.push({ value: s.value, version: s.version, tombstone: s.tombstone, age });
      }
      if (siblings.length > 0) yield { id: item.id, siblings };
    }
  }
}
