// Ports through which the runtime reaches beyond its own replica: where a function's keygroup
// comes from (created here, or joined from the cluster) and who hears about committed writes.
// The standalone implementations below need nothing but the local store; a cluster node wires
// implementations backed by the naming service and the replication engine.

import type { AppliedWrite, KeygroupInfo, ReplicaStore } from '../../replication/store/port.js';
import { EnokiError } from '../errors.js';

/** 'remote': the keygroup stays on another node, which serves the function's key-value calls. */
export type KeygroupOrigin = 'local' | 'created' | 'joined' | 'remote';

export interface EnsureOptions {
  mutable: boolean;
  /** Serve the keygroup from this node's replica instead of a local one (cluster mode). */
  kvNode?: string;
}

export interface KeygroupProvider {
  /**
   * Makes `name` available in the local replica: already here ('local'), new ('created'), or an
   * existing keygroup of the cluster that this node now replicates ('joined'). With kvNode, makes
   * sure that node holds it and this node may read and write it there ('remote').
   */
  ensure(name: string, options: EnsureOptions): Promise<{ info: KeygroupInfo; origin: KeygroupOrigin }>;
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

  async ensure(name: string, options: EnsureOptions): Promise<{ info: KeygroupInfo; origin: KeygroupOrigin }> {
    if (options.kvNode !== undefined) {
      throw new EnokiError('ERR_INVALID_OPTION', `kvNode needs a cluster node (ENOKI_ETCD); this node is standalone`);
    }
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
