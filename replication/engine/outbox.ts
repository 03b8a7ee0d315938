// The Outbox port: a durable per-peer queue of local writes still to be delivered; MemoryOutbox.
//
// An entry carries the sibling that was written, not a reference to the item. Re-sending the
// item's current state would be equally correct (receivers merge idempotently and a newer state
// supersedes the written one), but the store port has no read of one item's raw siblings
// (tombstones included), and the written sibling is exactly FReD's PutItem, so a queued entry
// can be delivered without touching the store. Cost: a value stays in the outbox until acked.
import type { Version } from '../store/port.js';

export interface OutboxEntry {
  keygroup: string;
  id: string;
  /** '' for a tombstone. */
  value: string;
  tombstone: boolean;
  /** {} for an append to an immutable keygroup (delivered as AppendItem). */
  version: Version;
  /** When this node stored the write (ms since epoch): the sibling's origin time, for expiry. */
  writtenAt: number;
}

export interface OutboxRecord {
  seq: number;
  entry: OutboxEntry;
}

/**
 * Contract, shared by every implementation (test/replication/engine/outbox-conformance.ts):
 * - append() resolves once the entry survives a process crash; it returns the entry's seq.
 * - seqs are positive integers, strictly increasing over the whole outbox (all peers), and are
 *   never reused, not even after every entry was acked and the outbox reopened.
 * - peek() returns a peer's oldest unacked entries in seq order; it does not remove them.
 * - ack(peer, upToSeq) removes that peer's entries with seq ≤ upToSeq; acking again is a no-op.
 * - peers() lists, in code-unit order, the peers that have at least one unacked entry.
 */
export interface Outbox {
  open(): Promise<void>;
  close(): Promise<void>;
  append(peer: string, entry: OutboxEntry): Promise<number>;
  peek(peer: string, n: number): Promise<OutboxRecord[]>;
  ack(peer: string, upToSeq: number): Promise<void>;
  peers(): Promise<string[]>;
}

export class OutboxError extends Error {
  constructor(
    readonly code: 'ERR_OUTBOX_CLOSED' | 'ERR_INVALID_ARGUMENT',
    message: string,
  ) {
    super(message);
    this.name = 'OutboxError';
  }
}

export function validatePeer(peer: unknown): asserts peer is string {
  if (typeof peer !== 'string' || peer === '') {
    throw new OutboxError('ERR_INVALID_ARGUMENT', `invalid peer ${JSON.stringify(peer)}`);
  }
}

export function validateCount(n: unknown): asserts n is number {
  if (!Number.isSafeInteger(n) || (n as number) < 1) {
    throw new OutboxError('ERR_INVALID_ARGUMENT', `invalid count ${String(n)}: expected a positive integer`);
  }
}

export function validateSeq(seq: unknown): asserts seq is number {
  if (!Number.isSafeInteger(seq) || (seq as number) < 0) {
    throw new OutboxError('ERR_INVALID_ARGUMENT', `invalid seq ${String(seq)}: expected a non-negative integer`);
  }
}

export function copyEntry(entry: OutboxEntry): OutboxEntry {
  return {
    keygroup: entry.keygroup,
    id: entry.id,
    value: entry.value,
    tombstone: entry.tombstone,
    version: { ...entry.version },
    writtenAt: entry.writtenAt,
  };
}

/**
 * In-memory outbox: durable only as long as the process lives (tests, ephemeral nodes). Data
 * survives close()/open() of the same instance, like MemoryReplicaStore.
 */
export class MemoryOutbox implements Outbox {
  private readonly queues = new Map<string, OutboxRecord[]>();
  private lastSeq = 0;
  private opened = false;

  async open(): Promise<void> {
    this.opened = true;
  }

  async close(): Promise<void> {
    this.opened = false;
  }

  async append(peer: string, entry: OutboxEntry): Promise<number> {
    this.assertOpen();
    validatePeer(peer);
    const seq = ++this.lastSeq;
    let queue = this.queues.get(peer);
    if (!queue) this.queues.set(peer, (queue = []));
    queue.push({ seq, entry: copyEntry(entry) });
    return seq;
  }

  async peek(peer: string, n: number): Promise<OutboxRecord[]> {
    this.assertOpen();
    validatePeer(peer);
    validateCount(n);
    return (this.queues.get(peer) ?? []).slice(0, n).map(({ seq, entry }) => ({ seq, entry: copyEntry(entry) }));
  }

  async ack(peer: string, upToSeq: number): Promise<void> {
    this.assertOpen();
    validatePeer(peer);
    validateSeq(upToSeq);
    const queue = this.queues.get(peer);
    if (!queue) return;
    // Queues are in seq order, so the acked entries are a prefix.
    let cut = 0;
    while (cut < queue.length && queue[cut]!.seq <= upToSeq) cut++;
    if (cut === queue.length) this.queues.delete(peer);
    else queue.splice(0, cut);
  }

  async peers(): Promise<string[]> {
    this.assertOpen();
    return [...this.queues.keys()].sort();
  }

  private assertOpen(): void {
    if (!this.opened) throw new OutboxError('ERR_OUTBOX_CLOSED', 'the outbox is not open');
  }
}
