// A keygroup held by another node: the invocation's reads are calls to that node's replica, and
// its buffered writes are sent there one by one, in the order the guest made them, when the
// invocation succeeds. FReD's client API has no multi-item write, so a commit is not atomic
// across items: if the node fails part-way, the writes before the failure stay applied.
// Atomic operations are FReD's conditional Update (the versions the caller has seen), which that
// node checks and applies in one step; increment retries a Read + conditional Update.

import type { AppliedWrite, LocalWrite, Version } from '../../replication/store/port.js';
import { incrementByRetry, type RetryPolicy } from './atomic-ops.js';
import { KvFault } from './kv-fault.js';
import type { KvBackend, KvSibling, ScanRequest } from './kv-backend.js';

/**
 * One replica node, as the calls an invocation needs. Failures are KvFaults (`unavailable` when
 * the node cannot be reached in time), so a guest sees a typed kv-error, never a trap.
 */
export interface RemoteReplica {
  readonly node: string;
  /** Live siblings; [] when the item does not exist. */
  read(keygroup: string, id: string): Promise<KvSibling[]>;
  /** Up to `count` items from `start`, which must exist there (`not-found` otherwise). */
  scan(keygroup: string, start: string, count: number): Promise<{ id: string; siblings: KvSibling[] }[]>;
  update(keygroup: string, id: string, value: string): Promise<void>;
  /** Resolves also when the item is already gone: the state the write asked for holds. */
  delete(keygroup: string, id: string): Promise<void>;
  append(keygroup: string, id: string, value: string): Promise<void>;
  /**
   * FReD's Update with versions (non-empty): true when the node stored it, false when it refused
   * the condition (another write got there first).
   */
  updateIf(keygroup: string, id: string, value: string, versions: Version[]): Promise<boolean>;
}

/**
 * Each attempt costs two round trips, and the writers it races with may be on other nodes of
 * that replica's cluster: back off with jitter (up to ~0.2 s) rather than hammer it, and give up
 * after a few seconds' worth of lost races.
 */
const REMOTE_RETRY: RetryPolicy = {
  attempts: 16,
  delayMs: (attempt) => Math.random() * Math.min(200, 5 * 2 ** attempt),
};

export class RemoteKvBackend implements KvBackend {
  constructor(private readonly replica: RemoteReplica) {}

  read(keygroup: string, id: string): Promise<KvSibling[]> {
    return this.replica.read(keygroup, id);
  }

  /** One call per id, all under way at once: the link's delay is paid once, not per id. */
  readMany(keygroup: string, ids: string[]): Promise<KvSibling[][]> {
    return Promise.all(ids.map((id) => this.replica.read(keygroup, id)));
  }

  async scan(keygroup: string, { start, count, startMustExist }: ScanRequest): Promise<{ id: string; siblings: KvSibling[] }[]> {
    if (start === '') {
      // FReD's Scan and Keys start at an existing id; nothing in its client API lists from the top.
      throw new KvFault(
        'unavailable',
        `keygroup ${keygroup} is served by node ${this.replica.node}, whose client API cannot scan from the first item; start at an existing id`,
      );
    }
    if (startMustExist) return this.replica.scan(keygroup, start, count);
    // A start only the invocation has written yet: the node cannot scan from it, so the scan
    // shows the invocation's own items from there and none of the stored ones.
    try {
      return await this.replica.scan(keygroup, start, count);
    } catch (err) {
      if (err instanceof KvFault && err.tag === 'not-found') return [];
      throw err;
    }
  }

  async commit(writes: LocalWrite[]): Promise<AppliedWrite[]> {
    for (const [i, write] of writes.entries()) {
      try {
        if (write.kind === 'set') await this.replica.update(write.keygroup, write.id, write.value);
        else if (write.kind === 'append') await this.replica.append(write.keygroup, write.id, write.value);
        else await this.replica.delete(write.keygroup, write.id);
      } catch (err) {
        const applied = i === 0 ? 'none applied' : `the first ${i} applied`;
        throw new Error(`write ${i + 1} of ${writes.length} (${write.kind} ${write.id}) failed on node ${this.replica.node}, ${applied}: ${(err as Error).message}`);
      }
    }
    // The replica node replicates what it applied; nothing is left for this node to send.
    return [];
  }

  async compareAndSwap(keygroup: string, id: string, value: string, given: Version[]): Promise<AppliedWrite[] | undefined> {
    // FReD reads an Update without versions as unconditional; "only if absent" is the empty
    // version, which covers no stored version, so any live sibling refuses the write.
    if (await this.replica.updateIf(keygroup, id, value, given.length > 0 ? given : [{}])) return [];
    if (given.length === 0 && (await this.replica.read(keygroup, id)).length === 0) {
      // Refused while absent: the node keeps the version of a deletion, which the client API never
      // shows, so no condition a client can send covers it.
      throw new KvFault(
        'unavailable',
        `item "${id}" was deleted on node ${this.replica.node}, and FReD's client API cannot re-create a deleted item ` +
          `conditionally: \`set\` it first`,
      );
    }
    return undefined;
  }

  increment(keygroup: string, id: string, delta: bigint): Promise<{ value: bigint; applied: AppliedWrite[] }> {
    return incrementByRetry(this, keygroup, id, delta, REMOTE_RETRY);
  }
}
