// Keygroups of a cluster node: a function's keygroup that already exists in the cluster is joined
// (this node becomes a replica and receives a full copy), as the paper's system did, instead of
// being created a second time; a new one is registered cluster-wide first, then created here,
// and replicated to the configured cloud node.

import type { ReplicationEngine } from '../../replication/engine/engine.js';
import type { NamingService } from '../../replication/naming/port.js';
import type { KeygroupInfo, ReplicaStore } from '../../replication/store/port.js';
import { EnokiError } from '../errors.js';
import type { KeygroupOrigin, KeygroupProvider } from '../kv/keygroups.js';

export interface ClusterKeygroupsOptions {
  nodeId: string;
  store: ReplicaStore;
  naming: NamingService;
  engine: ReplicationEngine;
  /** A node that replicates every keygroup created here (the cloud of the paper's setup). */
  cloudNode?: string;
  /** Gets every role on keygroups created here, so a FReD client can read functions' state. */
  owner?: string;
  /** How long to wait for the first full copy of a joined keygroup. */
  joinTimeoutMs?: number;
}

export class ClusterKeygroups implements KeygroupProvider {
  constructor(private readonly options: ClusterKeygroupsOptions) {}

  async ensure(name: string, { mutable }: { mutable: boolean }): Promise<{ info: KeygroupInfo; origin: KeygroupOrigin }> {
    const { naming, store, nodeId, engine } = this.options;
    const cluster = await naming.getKeygroup(name);
    if (!cluster) {
      await naming.createKeygroup({ name, mutable, expiry: 0, node: nodeId, owner: this.options.owner });
      const info = { name, mutable, expiry: 0 };
      // The engine may create the local copy first, on the membership change it watches.
      await store.createKeygroup(info).catch((err: { code?: string }) => {
        if (err.code !== 'ERR_KEYGROUP_EXISTS') throw err;
      });
      const cloud = this.options.cloudNode;
      if (cloud && cloud !== nodeId) {
        await naming.addReplica(name, cloud, 0);
        await engine.inviteReplica(name, cloud, 0).catch(() => undefined); // it also joins on the membership change
      }
      return { info, origin: 'created' };
    }
    const self = cluster.replicas.find((r) => r.node === nodeId);
    if (!self) await naming.addReplica(name, nodeId, 0);
    const local = await store.getKeygroup(name);
    if (self && local) return { info: local, origin: 'local' };
    // Join now rather than on the watch event, so the function starts with the keygroup's data.
    const joined = await Promise.race([
      engine.join(name, self?.expiry ?? 0),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), this.options.joinTimeoutMs ?? 10_000).unref()),
    ]);
    const info = await store.getKeygroup(name);
    if (!info) throw new EnokiError('ERR_INTERNAL', `joining keygroup ${name} did not create its local copy`);
    // Not yet joined means no member answered in time: the engine keeps retrying; writes made
    // meanwhile merge with the copy when it arrives.
    void joined;
    return { info, origin: 'joined' };
  }

  async drop(name: string): Promise<void> {
    const { naming, nodeId } = this.options;
    const cluster = await naming.getKeygroup(name);
    if (!cluster) return;
    if (cluster.replicas.length <= 1) await naming.deleteKeygroup(name);
    else if (cluster.replicas.some((r) => r.node === nodeId)) await naming.removeReplica(name, nodeId);
    // The engine drops the local copy when it sees this node removed (or the keygroup deleted).
  }
}
