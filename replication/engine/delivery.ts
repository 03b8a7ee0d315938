// Outbox delivery: one pump per peer sends queued writes, acks what arrived, backs off and
// retries what did not, until every entry is acknowledged or no longer relevant.
import type { ReplicationLogger } from './logger.js';
import type { Outbox, OutboxEntry, OutboxRecord } from './outbox.js';
import type { Timers, TimerHandle } from './timers.js';
import { PeerUnavailableError, type PeerMessage, type PeerTransport } from './transport.js';

export type Outcome = 'acknowledged' | 'failed';

export interface RetryPolicy {
  /** First retry delay; doubled per failed attempt up to maxMs, with ±50 % jitter. */
  baseMs: number;
  maxMs: number;
}

export interface DeliveryOptions {
  outbox: Outbox;
  transport: PeerTransport;
  timers: Timers;
  random: () => number;
  logger: ReplicationLogger;
  retry: RetryPolicy;
  /** Entries sent concurrently per round trip. */
  batchSize: number;
  /**
   * A peer that answers an entry with an error this many times has it handed to `giveUp`, so one
   * entry it cannot take does not hold back every later one.
   */
  maxRejections: number;
  /** False when an entry should no longer go to the peer (removed from the keygroup, expired there). */
  relevant: (peer: string, entry: OutboxEntry) => Promise<boolean>;
  /** Told once per entry when the peer could not be reached for it (FReD records such misses). */
  unreached?: (peer: string, entry: OutboxEntry) => void;
  /**
   * Takes over an entry the peer keeps rejecting: resolves true once the miss is recorded
   * durably elsewhere (for the peer's replay and anti-entropy), so the entry may leave the
   * outbox; false keeps it queued and retried. Without it nothing is ever given up.
   */
  giveUp?: (peer: string, entry: OutboxEntry, error: unknown) => Promise<boolean>;
}

interface PeerState {
  state: 'idle' | 'sending' | 'backoff';
  attempts: number;
  timer?: TimerHandle;
  /** Set when entries may have been appended after the running pump's last peek. */
  again: boolean;
  /** Every seq up to this one has been delivered (or skipped). */
  deliveredThrough: number;
  waiters: Map<number, Array<(outcome: Outcome) => void>>;
  rejections: Map<number, number>;
  /** Seqs already reported unreached, so each miss is reported once. */
  unreached: Set<number>;
}

/**
 * "Retry later", never counted as a rejection. ERR_MEMBERSHIP_UNAVAILABLE is the receiver's (it
 * could not check that the sender is a member): over gRPC it arrives as UNAVAILABLE, i.e. as a
 * PeerUnavailableError, and an in-process transport passes it through as it is.
 */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof PeerUnavailableError) return true;
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return code === 'ERR_PEER_UNAVAILABLE' || code === 'ERR_MEMBERSHIP_UNAVAILABLE';
}

/** The peer message for an outbox entry; an empty version without tombstone is an append. */
export function entryMessage(entry: OutboxEntry, now: number): PeerMessage {
  const age = Math.max(0, now - entry.writtenAt);
  const { keygroup, id, value } = entry;
  if (!entry.tombstone && Object.keys(entry.version).length === 0) return { type: 'appendItem', keygroup, id, value, age };
  return { type: 'putItem', keygroup, id, value, tombstone: entry.tombstone, version: entry.version, age };
}

/**
 * Invariants: at most one pump runs per peer; a pump only stops when a peek found nothing (and
 * nothing was appended since) or after scheduling its retry; entries are acked only as a
 * contiguous prefix, so a crash at any point re-sends but never loses (receivers are idempotent).
 * Waiters learn the first outcome for their entry: delivered, or the peer failed this time.
 */
export class Delivery {
  private readonly peers = new Map<string, PeerState>();
  private stopped = false;

  constructor(private readonly options: DeliveryOptions) {}

  /** There is something new for `peer`: send it now unless the peer is backing off. */
  kick(peer: string): void {
    const p = this.peer(peer);
    if (this.stopped) return;
    if (p.state === 'sending') p.again = true;
    else if (p.state === 'idle') void this.pump(peer, p);
  }

  /** The peer just showed it is alive: cut a pending backoff short. */
  nudge(peer: string): void {
    const p = this.peers.get(peer);
    if (!p || p.state !== 'backoff' || this.stopped) return;
    this.options.timers.clearTimeout(p.timer);
    p.attempts = 0;
    void this.pump(peer, p);
  }

  backingOff(peer: string): boolean {
    return this.peers.get(peer)?.state === 'backoff';
  }

  /** Resolves with the first outcome for entry `seq`; at once 'failed' if the peer is backing off. */
  wait(peer: string, seq: number): Promise<Outcome> {
    const p = this.peer(peer);
    if (seq <= p.deliveredThrough) return Promise.resolve('acknowledged');
    if (this.stopped || p.state === 'backoff') return Promise.resolve('failed');
    return new Promise((resolve) => {
      const list = p.waiters.get(seq);
      if (list) list.push(resolve);
      else p.waiters.set(seq, [resolve]);
    });
  }

  /** Stops every pump after its current round trip; waiters get 'failed'. */
  stop(): void {
    this.stopped = true;
    for (const p of this.peers.values()) {
      this.options.timers.clearTimeout(p.timer);
      this.settleAll(p, 'failed');
    }
  }

  private peer(peer: string): PeerState {
    let p = this.peers.get(peer);
    if (!p) {
      p = { state: 'idle', attempts: 0, again: false, deliveredThrough: 0, waiters: new Map(), rejections: new Map(), unreached: new Set() };
      this.peers.set(peer, p);
    }
    return p;
  }

  private async pump(peer: string, p: PeerState): Promise<void> {
    const { outbox, batchSize, logger } = this.options;
    p.state = 'sending';
    try {
      for (;;) {
        if (this.stopped) return;
        p.again = false;
        const batch = await outbox.peek(peer, batchSize);
        if (batch.length === 0) {
          if (p.again) continue;
          p.state = 'idle';
          p.attempts = 0;
          // Everything appended for this peer has been acked, so every waiter was delivered.
          this.settleAll(p, 'acknowledged');
          return;
        }
        const results = await Promise.all(batch.map((record) => this.deliver(peer, p, record)));
        // Only the done prefix is acked; entries done after a failure are re-sent later.
        let through = 0;
        let contiguous = true;
        for (let i = 0; i < batch.length; i++) {
          if (!results[i]) {
            contiguous = false;
            continue;
          }
          this.settle(p, batch[i]!.seq, 'acknowledged');
          if (contiguous) through = batch[i]!.seq;
        }
        if (through > 0) {
          p.deliveredThrough = Math.max(p.deliveredThrough, through);
          await outbox.ack(peer, through);
        }
        if (results.includes(false)) return this.backOff(peer, p);
        p.attempts = 0;
      }
    } catch (error) {
      logger.error({ peer, err: error }, 'replication outbox failed');
      this.backOff(peer, p);
    }
  }

  /**
   * True when the entry is done with: delivered, irrelevant, or rejected too often and taken
   * over by giveUp. Never dropped otherwise: an entry leaves the outbox only in one of these ways.
   */
  private async deliver(peer: string, p: PeerState, record: OutboxRecord): Promise<boolean> {
    const { transport, timers, logger, maxRejections, relevant } = this.options;
    const { entry, seq } = record;
    if (!(await relevant(peer, entry))) {
      logger.debug({ peer, keygroup: entry.keygroup, id: entry.id, seq }, 'outbox entry no longer relevant');
      return true;
    }
    try {
      await transport.send(peer, entryMessage(entry, timers.now()));
      p.rejections.delete(seq);
      p.unreached.delete(seq);
      return true;
    } catch (error) {
      if (isUnavailable(error)) {
        if (this.options.unreached && !p.unreached.has(seq)) {
          p.unreached.add(seq);
          this.options.unreached(peer, entry);
        }
        return false;
      }
      const count = (p.rejections.get(seq) ?? 0) + 1;
      p.rejections.set(seq, count);
      if (count < maxRejections || !this.options.giveUp) return false;
      if (!(await this.options.giveUp(peer, entry, error).catch(() => false))) return false;
      p.rejections.delete(seq);
      p.unreached.delete(seq);
      logger.error({ peer, keygroup: entry.keygroup, id: entry.id, seq, err: error }, 'peer keeps rejecting a write; recorded as missed for its replay and anti-entropy');
      return true;
    }
  }

  private backOff(peer: string, p: PeerState): void {
    this.settleAll(p, 'failed');
    if (this.stopped) return;
    const { retry, random, timers, logger } = this.options;
    const delay = Math.min(retry.maxMs, retry.baseMs * 2 ** p.attempts) * (0.5 + random() / 2);
    p.attempts = Math.min(p.attempts + 1, 30);
    p.state = 'backoff';
    logger.debug({ peer, delay, attempts: p.attempts }, 'replication to peer backing off');
    p.timer = timers.setTimeout(() => {
      p.timer = undefined;
      void this.pump(peer, p);
    }, delay);
  }

  private settle(p: PeerState, seq: number, outcome: Outcome): void {
    const list = p.waiters.get(seq);
    if (!list) return;
    p.waiters.delete(seq);
    for (const resolve of list) resolve(outcome);
  }

  private settleAll(p: PeerState, outcome: Outcome): void {
    for (const seq of [...p.waiters.keys()]) this.settle(p, seq, outcome);
  }
}
