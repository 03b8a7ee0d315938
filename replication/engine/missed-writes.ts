// FReD's missed-write records (failnode|<node>|kg|<keygroup>|<id> in the naming service), from
// both ends: records for peers this node could not deliver a write to (or that keep refusing
// one), and the replay of this node's own records — each item fetched from another member and
// merged, then the record forgotten. FReD replays only when it starts; this replays at start and
// whenever a record for this node appears, retrying with backoff what cannot be fetched yet.
import type { ReplicaStore } from '../store/port.js';
import type { RetryPolicy } from './delivery.js';
import type { ReplicationLogger } from './logger.js';
import type { Member, MissedWrite, MissedWrites } from './membership.js';
import type { OutboxEntry } from './outbox.js';
import type { TimerHandle, Timers } from './timers.js';
import type { PeerTransport, SiblingData } from './transport.js';

export interface MissedWriteLogOptions {
  self: string;
  records: MissedWrites;
  store: ReplicaStore;
  transport: PeerTransport;
  timers: Timers;
  random: () => number;
  logger: ReplicationLogger;
  retry: RetryPolicy;
  /** Current members, read fresh (decides whether a record still concerns this node). */
  members: (keygroup: string) => Promise<Member[]>;
  /** The receive path for one sibling (write rules, ages). */
  merge: (keygroup: string, id: string, sibling: SiblingData) => Promise<boolean>;
  /** Whether `peer` is known to run Enoki (its outbox and anti-entropy need no record). */
  isEnoki: (peer: string) => boolean;
}

export class MissedWriteLog {
  private running = false;
  private again = false;
  private attempts = 0;
  private timer?: TimerHandle;
  private run?: Promise<void>;
  private unwatch?: () => void;

  constructor(private readonly options: MissedWriteLogOptions) {}

  start(): void {
    this.running = true;
    this.unwatch = this.options.records.watch(this.options.self, () => this.replay());
    this.replay();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unwatch?.();
    this.options.timers.clearTimeout(this.timer);
    await this.run;
  }

  /**
   * `peer` could not be reached for `entry`. FReD records such a miss so that the node fetches
   * the item when it is back, and a FReD peer relies on that. Known Enoki peers get no record.
   * Best effort: the outbox still holds the entry.
   */
  unreached(peer: string, entry: OutboxEntry): void {
    if (this.options.isEnoki(peer)) return;
    const write: MissedWrite = { node: peer, keygroup: entry.keygroup, id: entry.id };
    this.options.records.report(write).catch((error: unknown) => this.options.logger.warn({ ...write, err: error }, 'missed write not recorded'));
  }

  /**
   * `peer` keeps refusing `entry`: the miss is recorded durably (the peer replays it, and
   * anti-entropy repairs it) so that the entry may leave the outbox. Rejects if it could not be.
   */
  async takeOver(peer: string, entry: OutboxEntry): Promise<boolean> {
    await this.options.records.report({ node: peer, keygroup: entry.keygroup, id: entry.id });
    return true;
  }

  /** Replays this node's records now (or right after a replay under way). */
  replay(): void {
    if (!this.running) return;
    if (this.run) {
      this.again = true;
      return;
    }
    this.again = false;
    this.options.timers.clearTimeout(this.timer);
    this.run = this.replayOnce()
      .catch((error: unknown) => {
        this.options.logger.warn({ err: error }, 'replaying missed writes failed');
        return false;
      })
      .then((complete) => {
        this.run = undefined;
        if (!this.running) return;
        if (this.again) return this.replay();
        if (complete) {
          this.attempts = 0;
          return;
        }
        const { retry, random, timers } = this.options;
        const delay = Math.min(retry.maxMs, retry.baseMs * 2 ** this.attempts) * (0.5 + random() / 2);
        this.attempts = Math.min(this.attempts + 1, 30);
        this.timer = timers.setTimeout(() => this.replay(), delay);
      });
  }

  /** True when every record was replayed, or forgotten as no longer this node's concern. */
  private async replayOnce(): Promise<boolean> {
    const { records, self, store, transport, logger, members: membersOf, merge } = this.options;
    let complete = true;
    for (const write of await records.list(self)) {
      if (!this.running) return false;
      const { keygroup, id } = write;
      const members = await membersOf(keygroup).catch(() => undefined);
      if (!members) {
        complete = false;
        continue;
      }
      if (!members.some((m) => m.nodeId === self) || !(await store.getKeygroup(keygroup))) {
        await records.clear(write);
        continue;
      }
      let fetched = false;
      for (const { nodeId: peer } of members) {
        if (peer === self) continue;
        try {
          for (const item of await transport.getItem(peer, { keygroup, id })) {
            await merge(keygroup, item.id, item).catch((error: unknown) => {
              logger.warn({ keygroup, id, peer, err: error }, 'missed write: sibling rejected');
            });
          }
          fetched = true;
          break;
        } catch (error) {
          logger.debug({ keygroup, id, peer, err: error }, 'missed write: member did not answer');
        }
      }
      if (fetched) {
        await records.clear(write);
        logger.info({ keygroup, id }, 'missed write replayed');
      } else {
        complete = false;
      }
    }
    return complete;
  }
}
