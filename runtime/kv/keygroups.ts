// Ports through which the runtime reaches beyond its own replica: where a function's keygroup
// comes from (created here, or joined from the cluster) and who hears about committed writes.
// The standalone implementations below need nothing but the local store; a cluster node wires
// implementations backed by the naming service and the replication engine.

import type { AppliedWrite, KeygroupInfo, ReplicaStore } from '../../replication/store/port.js';

export type KeygroupOrigin = 'local' | 'created' | 'joined';

export interface KeygroupProvider {
  /**
   * Makes `name` available in the local replica: already here ('local'), new ('created'), or an
   * existing keygroup of the cluster that this node now replicates ('joined').
   */
  ensure(name: string, options: { mutable: boolean }): Promise<{ info: KeygroupInfo; origin: KeygroupOrigin }>;
  /** Drops the keygroup from this node (and from the cluster when this was its last replica). */
  drop(name: string): Promise<void>;
}

export interface WriteReplicator {
  /** Called with every committed invocation's writes before its response is sent. */
  replicate(applied: AppliedWrite[]): Promise<void>;
}

/** A node on its own: keygroups live only in the local replica. */
export class LocalKeygroups implements KeygroupProvider {
  constructor(private readonly store: ReplicaStore) {}

  async ensure(name: string, options: { mutable: boolean }): Promise<{ info: KeygroupInfo; origin: KeygroupOrigin }> {
    const existing = await this.store.getKeygroup(name);
    if (existing) return { info: existing, origin: 'local' };
    const info = { name, mutable: options.mutable, expiry: 0 };
    await this.store.createKeygroup(info);
    return { info, origin: 'created' };
  }

  async drop(name: string): Promise<void> {
    if (await this.store.getKeygroup(name)) await this.store.deleteKeygroup(name);
  }
}

/** A node on its own has nobody to tell. */
export const NO_REPLICATION: WriteReplicator = { replicate: async () => undefined };
