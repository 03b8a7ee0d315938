// ReplicationEngine: FReD replication of a node's keygroups over the store, transport, outbox and
// membership ports — outbox delivery, the receiving side, anti-entropy rounds and joining.
//
// Behaviour in brief:
// - replicateLocal: every write is appended to the durable outbox for every other member first,
//   then delivered; 'sync' waits for each reachable member's first answer (bounded by
//   syncTimeoutMs), 'async' only for the outbox. A failed or slow peer never fails the caller;
//   delivery retries with backoff until acknowledged, across restarts (start() resumes).
// - receiving: PutItem/AppendItem are merged with FReD's rules (store.mergeRemote) and never
//   forwarded. Data requests are accepted only from members of the keygroup; when membership
//   cannot be read, they fail with MembershipUnavailableError, which senders retry. A peer's
//   DeleteKeygroup drops the local copy even while membership still lists this node (FReD sends
//   it before updating the naming service); still listed after dropGraceMs, the node rejoins.
// - anti-entropy: every antiEntropyIntervalMs, each keygroup is compared with each other member
//   (rounds.ts; one comparison in anti-entropy.ts); this is the safety net for everything the
//   outbox cannot cover.
//   Members without the digest exchange (FReD nodes) get a full exchange over FReD's calls.
// - missed writes (with a MissedWrites port): a write a peer could not be reached for is recorded
//   as FReD records it (unless the peer is known to run Enoki, whose outbox and anti-entropy need
//   no record), and so is one a peer keeps rejecting, which then leaves the outbox; this node's
//   own records are replayed (the items fetched from another member) at start and whenever one
//   appears. No entry leaves the outbox otherwise than delivered, irrelevant or so recorded.
// - joining: when this node becomes a member (membership change, a peer's CreateKeygroup, or
//   join()), it creates the keygroup locally, merges a full copy (GetAllItems) from one member
//   and reconciles once with every other member (replica-set.ts; a FReD member through its full
//   copy), while already accepting writes; whatever fails is retried.
// - expiry: see ages.ts — siblings older than a replica's expiry are neither sent to nor stored
//   on it, so an item that expired somewhere is not brought back there in a loop.
import type { AppliedWrite, ReplicaStore } from '../store/port.js';
import { admits, OriginLedger } from './ages.js';
import { AntiEntropy } from './anti-entropy.js';
import { Delivery, isUnavailable, type RetryPolicy } from './delivery.js';
import { Inbound } from './inbound.js';
import { silentLogger, type ReplicationLogger } from './logger.js';
import type { Member, Membership, MissedWrites } from './membership.js';
import { MissedWriteLog } from './missed-writes.js';
import type { Outbox, OutboxEntry } from './outbox.js';
import { ReplicaSet } from './replica-set.js';
import { AntiEntropyRounds, type AntiEntropyReport } from './rounds.js';
import { systemTimers, type TimerHandle, type Timers } from './timers.js';
import {
  isPeerUnsupported,
  type DigestRequest,
  type DigestResponse,
  type ItemData,
  type ItemRequest,
  type KeygroupRequest,
  type PeerHandler,
  type PeerMessage,
  type PeerTransport,
  type SiblingData,
} from './transport.js';

export interface ReplicationEngineOptions {
  store: ReplicaStore;
  transport: PeerTransport;
  outbox: Outbox;
  membership: Membership;
  timers?: Timers;
  /** Jitter and peer choice; inject a seeded source for reproducible tests. */
  random?: () => number;
  logger?: ReplicationLogger;
  /** Period of anti-entropy rounds (±25 % jitter); 0 disables them (runAntiEntropy still works). Default 30 s. */
  antiEntropyIntervalMs?: number;
  /** Longest a 'sync' replicateLocal waits for peers. Default 5 s. */
  syncTimeoutMs?: number;
  /** Backoff of outbox delivery and join retries. Default 200 ms doubling to 30 s. */
  retry?: RetryPolicy;
  /** Outbox entries sent per round trip and peer. Default 64. */
  batchSize?: number;
  /** Errors from a reachable peer after which one outbox entry is dropped. Default 5. */
  maxRejections?: number;
  /** Differing digest buckets repaired per exchange. Default 64. */
  maxDigestBuckets?: number;
  /** How long membership answers are reused; change events invalidate them sooner. Default 5 s. */
  membershipCacheMs?: number;
  /** Ages below this are not tracked across hops (see ages.ts). Default 1 s. */
  ageSlackMs?: number;
  /** Refuse data requests from nodes that are not members of the keygroup. Default true. */
  verifyMembers?: boolean;
  /** FReD's missed-write records (failnode); without it nothing is recorded or replayed. */
  missedWrites?: MissedWrites;
  /** How long a copy dropped on a peer's DeleteKeygroup may stay dropped while still listed. Default 10 s. */
  dropGraceMs?: number;
}

export type ReplicationMode = 'sync' | 'async';

export interface ReplicationResult {
  /** Peers that acknowledged every write of the call. */
  acknowledged: string[];
  /** Peers still owed something; the outbox delivers it later. */
  pending: string[];
}

export type { AntiEntropyReport } from './rounds.js';

export class ReplicationEngine implements PeerHandler {
  readonly self: string;
  private readonly store: ReplicaStore;
  private readonly transport: PeerTransport;
  private readonly outbox: Outbox;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly logger: ReplicationLogger;
  private readonly syncTimeoutMs: number;
  private readonly ledger: OriginLedger;
  private readonly replicas: ReplicaSet;
  private readonly delivery: Delivery;
  private readonly antiEntropy: AntiEntropy;
  private readonly rounds: AntiEntropyRounds;
  private readonly inbound: Inbound;
  private readonly missed?: MissedWriteLog;
  private running = false;

  constructor(options: ReplicationEngineOptions) {
    this.store = options.store;
    this.transport = options.transport;
    this.outbox = options.outbox;
    this.self = options.membership.self;
    this.timers = options.timers ?? systemTimers;
    this.random = options.random ?? Math.random;
    this.logger = options.logger ?? silentLogger;
    const intervalMs = options.antiEntropyIntervalMs ?? 30_000;
    this.syncTimeoutMs = options.syncTimeoutMs ?? 5_000;
    const retry = options.retry ?? { baseMs: 200, maxMs: 30_000 };
    if (options.missedWrites) {
      this.missed = new MissedWriteLog({
        self: this.self,
        records: options.missedWrites,
        store: this.store,
        transport: this.transport,
        timers: this.timers,
        random: this.random,
        logger: this.logger,
        retry,
        members: (keygroup) => this.replicas.members(keygroup, true),
        merge: (keygroup, id, sibling) => this.inbound.merge(keygroup, id, sibling),
        isEnoki: (peer) => this.rounds.enokiPeers.has(peer),
      });
    }
    this.ledger = new OriginLedger(options.ageSlackMs ?? 1_000);
    const merge = (keygroup: string, id: string, sibling: SiblingData) => this.inbound.merge(keygroup, id, sibling);
    this.replicas = new ReplicaSet({
      store: this.store,
      transport: this.transport,
      membership: options.membership,
      timers: this.timers,
      random: this.random,
      logger: this.logger,
      ledger: this.ledger,
      retry,
      cacheMs: options.membershipCacheMs ?? 5_000,
      merge,
      reconcile: (keygroup, peer) => this.reconcile(keygroup, peer),
      forget: (keygroup) => this.antiEntropy.forget(keygroup),
      dropGraceMs: options.dropGraceMs ?? 10_000,
    });
    this.delivery = new Delivery({
      outbox: this.outbox,
      transport: this.transport,
      timers: this.timers,
      random: this.random,
      logger: this.logger,
      retry,
      batchSize: options.batchSize ?? 64,
      maxRejections: options.maxRejections ?? 5,
      relevant: (peer, entry) => this.relevant(peer, entry),
      unreached: (peer, entry) => this.missed?.unreached(peer, entry),
      giveUp: async (peer, entry) => (this.missed ? this.missed.takeOver(peer, entry) : false),
    });
    this.inbound = new Inbound({
      self: this.self,
      store: this.store,
      timers: this.timers,
      ledger: this.ledger,
      verifyMembers: options.verifyMembers ?? true,
      members: (keygroup, fresh) => this.replicas.members(keygroup, fresh),
      ensureLocal: (keygroup, expiry) => this.replicas.ensureLocal(keygroup, expiry),
      dropLocal: (keygroup) => this.replicas.dropLocal(keygroup),
      release: (keygroup) => this.replicas.release(keygroup),
      released: (keygroup) => this.replicas.released(keygroup),
      join: (keygroup) => this.replicas.join(keygroup),
      changed: (keygroup) => this.antiEntropy.changed(keygroup),
    });
    this.antiEntropy = new AntiEntropy({
      store: this.store,
      transport: this.transport,
      timers: this.timers,
      ledger: this.ledger,
      random: this.random,
      logger: this.logger,
      maxBuckets: options.maxDigestBuckets ?? 64,
      cacheMs: intervalMs > 0 ? intervalMs : 30_000,
      merge,
    });
    this.rounds = new AntiEntropyRounds({
      self: this.self,
      store: this.store,
      antiEntropy: this.antiEntropy,
      ledger: this.ledger,
      timers: this.timers,
      random: this.random,
      logger: this.logger,
      intervalMs,
      members: (keygroup) => this.replicas.members(keygroup),
      exchanged: (peer) => this.delivery.nudge(peer),
    });
  }

  /** Resumes delivery of every queued write, follows membership, starts anti-entropy rounds. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.replicas.start();
    for (const peer of await this.outbox.peers()) this.delivery.kick(peer);
    this.rounds.start();
    this.missed?.start();
  }

  /** Stops timers and pumps; queued writes stay in the outbox for the next start(). */
  async stop(): Promise<void> {
    this.running = false;
    this.delivery.stop();
    await Promise.allSettled([this.rounds.stop(), this.replicas.stop(), this.missed?.stop()]);
  }

  /** Replicates writes this node applied (store.applyLocal's result) to every other member. */
  async replicateLocal(applied: AppliedWrite[], mode: ReplicationMode = 'sync'): Promise<ReplicationResult> {
    const queued: Array<Promise<{ peer: string; seq: number }>> = [];
    for (const { keygroup, id, sibling } of applied) {
      this.antiEntropy.changed(keygroup);
      const entry: OutboxEntry = {
        keygroup,
        id,
        value: sibling.value,
        tombstone: sibling.tombstone,
        version: sibling.version,
        writtenAt: sibling.storedAt,
      };
      let members: Member[];
      try {
        members = await this.replicas.members(keygroup);
      } catch (error) {
        // The write is committed here; failing the caller now would not undo it. Nobody can be
        // addressed, so it stays local until anti-entropy spreads it.
        this.logger.error({ keygroup, id, err: error }, 'write not queued for peers: membership unknown');
        continue;
      }
      for (const { nodeId: peer } of members) {
        if (peer !== this.self) queued.push(this.outbox.append(peer, entry).then((seq) => ({ peer, seq })));
      }
    }
    const appended = await Promise.all(queued);
    const peers = [...new Set(appended.map((a) => a.peer))].sort();
    if (mode === 'async') {
      for (const peer of peers) this.delivery.kick(peer);
      return { acknowledged: [], pending: peers };
    }
    // Waiters are registered before the pumps start, so no outcome can be missed.
    const owed = new Map<string, number>();
    for (const { peer } of appended) owed.set(peer, (owed.get(peer) ?? 0) + 1);
    const failed = new Set<string>();
    const waits = appended.map(({ peer, seq }) =>
      this.delivery.wait(peer, seq).then((outcome) => {
        if (outcome === 'acknowledged') owed.set(peer, owed.get(peer)! - 1);
        else failed.add(peer);
      }),
    );
    for (const peer of peers) this.delivery.kick(peer);
    let timer: TimerHandle;
    const timeout = new Promise<void>((resolve) => (timer = this.timers.setTimeout(() => resolve(), this.syncTimeoutMs)));
    await Promise.race([Promise.all(waits), timeout]);
    this.timers.clearTimeout(timer!);
    const acknowledged = peers.filter((p) => owed.get(p) === 0 && !failed.has(p));
    return { acknowledged, pending: peers.filter((p) => !acknowledged.includes(p)) };
  }

  /** One anti-entropy round now (all local keygroups, or one); rounds never overlap, calls queue. */
  runAntiEntropy(keygroup?: string): Promise<AntiEntropyReport> {
    return this.rounds.run(keygroup);
  }

  /**
   * Creates the local copy if missing and fetches the keygroup from its members now; resolves
   * true once joined, false if it will be retried. A membership change adding this node does the
   * same on its own; this lets a caller wait for it.
   */
  async join(keygroup: string, expiry?: number): Promise<boolean> {
    await this.replicas.ensureLocal(keygroup, expiry);
    return this.replicas.join(keygroup);
  }

  /**
   * Brings a new replica of `keygroup` up to date, as a FReD node's AddReplica does: tells it
   * (FReD's CreateKeygroup; an Enoki node then joins), then makes sure it holds every item — one
   * digest exchange with an Enoki node, or, with a FReD node (which never fetches anything
   * itself), a push of every item it lacks. Resolves once that is done; rejects if the node could
   * not be reached (the outbox and anti-entropy keep trying for writes, not for this copy).
   */
  async inviteReplica(keygroup: string, nodeId: string, expiry: number): Promise<void> {
    try {
      await this.transport.send(nodeId, { type: 'createKeygroup', keygroup, expiry });
    } catch (error) {
      if (isUnavailable(error)) throw error;
      // A FReD node that already holds the keygroup (an expiry change) refuses; it still gets the items.
      this.logger.debug({ keygroup, peer: nodeId, err: error }, 'invited replica refused CreateKeygroup');
    }
    const me = { nodeId: this.self, expiry: (await this.store.getKeygroup(keygroup))?.expiry ?? 0 };
    const them = { nodeId, expiry };
    try {
      await this.antiEntropy.exchange(keygroup, me, them);
      this.rounds.enokiPeers.add(nodeId);
    } catch (error) {
      if (!isPeerUnsupported(error)) throw error;
      const { pushed } = await this.antiEntropy.fullExchange(keygroup, me, them, { pull: false });
      this.logger.info({ keygroup, peer: nodeId, pushed }, 'new replica sent every item it lacked');
    }
    this.delivery.nudge(nodeId);
  }

  /** Tells a node to drop its copy of `keygroup` (FReD's peering DeleteKeygroup). */
  dropReplica(keygroup: string, nodeId: string): Promise<void> {
    return this.transport.send(nodeId, { type: 'deleteKeygroup', keygroup });
  }

  // ---- PeerHandler ----------------------------------------------------------------------------

  async handle(from: string, message: PeerMessage): Promise<void> {
    await this.inbound.handle(from, message);
    this.delivery.nudge(from);
  }

  async getItem(from: string, request: ItemRequest): Promise<ItemData[]> {
    return this.inbound.getItem(from, request);
  }

  async getAllItems(from: string, request: KeygroupRequest): Promise<ItemData[]> {
    return this.inbound.getAllItems(from, request);
  }

  async exchangeDigest(from: string, request: DigestRequest): Promise<DigestResponse> {
    this.rounds.enokiPeers.add(from);
    await this.inbound.requireMember(from, request.keygroup);
    const response = await this.antiEntropy.respond(request);
    this.delivery.nudge(from);
    return response;
  }

  // ---- internals ------------------------------------------------------------------------------

  /** One exchange with `peer`, as part of joining (this node may not be listed yet). */
  private async reconcile(keygroup: string, peer: string): Promise<void> {
    const members = await this.replicas.members(keygroup);
    const them = members.find((m) => m.nodeId === peer);
    if (!them) return; // no longer a member: nothing to reconcile with
    const me = members.find((m) => m.nodeId === this.self) ?? {
      nodeId: this.self,
      expiry: (await this.store.getKeygroup(keygroup))?.expiry ?? 0,
    };
    await this.antiEntropy.reconcile(keygroup, me, them);
    this.delivery.nudge(peer);
  }

  /** Whether a queued write should still go to `peer`: still a member, and not expired there. */
  private async relevant(peer: string, entry: OutboxEntry): Promise<boolean> {
    const member = (await this.replicas.members(entry.keygroup)).find((m) => m.nodeId === peer);
    return !!member && admits(member.expiry, this.timers.now() - entry.writtenAt);
  }
}
