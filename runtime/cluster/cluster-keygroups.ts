// Keygroups of a cluster node: a function's keygroup that already exists in the cluster is joined
// (this node becomes a replica and receives a full copy), as the paper's system did, instead of
// being created a second time; a new one is registered cluster-wide first, then created here,
// and replicated to the configured cloud node. With kvNode the keygroup stays on that node
// (created there over its client API if new) and this node only gets the roles to use it there.

import * as grpc from '@grpc/grpc-js';
import type { ReplicationEngine } from '../../replication/engine/engine.js';
import { GrpcCallError } from '../../replication/grpc/call.js';
import { ROLES, type NamingService } from '../../replication/naming/port.js';
import type { KeygroupInfo, ReplicaStore } from '../../replication/store/port.js';
import { EnokiError } from '../errors.js';
import type { EnsureOptions, KeygroupOrigin, KeygroupProvider } from '../kv/keygroups.js';
import type { RemoteNodes } from './remote-nodes.js';

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
  /** Client-API channels to other nodes, for keygroups served by another node (kvNode). */
  remotes?: RemoteNodes;
}

export class ClusterKeygroups implements KeygroupProvider {
  constructor(private readonly options: ClusterKeygroupsOptions) {}

  async ensure(name: string, { mutable, kvNode }: EnsureOptions): Promise<{ info: KeygroupInfo; origin: KeygroupOrigin }> {
    const { naming, store, nodeId, engine } = this.options;
    if (kvNode !== undefined && kvNode !== nodeId) return this.#ensureRemote(name, mutable, kvNode);
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

  async #ensureRemote(name: string, mutable: boolean, kvNode: string): Promise<{ info: KeygroupInfo; origin: KeygroupOrigin }> {
    const { naming, nodeId, remotes, owner } = this.options;
    if (!remotes) throw new EnokiError('ERR_INVALID_OPTION', 'this node cannot serve key-value calls from another node');
    if (!(await naming.getNode(kvNode))) {
      throw new EnokiError('ERR_INVALID_OPTION', `kvNode ${kvNode} is not a node of the cluster (no client-API address registered)`);
    }
    let cluster = await naming.getKeygroup(name);
    if (!cluster) {
      try {
        // Created by kvNode itself, which makes its copy before answering; this node's identity
        // (the caller) gets every role, as FReD grants a creator.
        await (await remotes.client(kvNode)).createKeygroup(name, mutable);
      } catch (err) {
        if (!(err instanceof GrpcCallError && err.code === grpc.status.ALREADY_EXISTS)) throw remoteFailure(kvNode, err);
      }
      if (owner) for (const role of ROLES) await naming.grantRole(owner, name, role);
      cluster = await untilKnown(naming, name);
    }
    if (!cluster.replicas.some((r) => r.node === kvNode)) {
      const replicas = cluster.replicas.map((r) => r.node).join(', ') || 'none';
      throw new EnokiError('ERR_INVALID_OPTION', `kvNode ${kvNode} is not a replica of keygroup ${name}; its replicas are: ${replicas}`);
    }
    // The calls arrive with this node's certificate: its id is the user the replica checks.
    await naming.grantRole(nodeId, name, 'ReadKeygroup');
    await naming.grantRole(nodeId, name, 'WriteKeygroup');
    return { info: { name, mutable: cluster.mutable, expiry: 0 }, origin: 'remote' };
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

function remoteFailure(node: string, err: unknown): EnokiError {
  if (err instanceof GrpcCallError && (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED)) {
    return new EnokiError('ERR_NODE_UNAVAILABLE', `kvNode ${node} did not answer: ${err.details}`);
  }
  const reason = err instanceof GrpcCallError ? `${grpc.status[err.code]}: ${err.details}` : (err as Error).message;
  return new EnokiError('ERR_INTERNAL', `creating the keygroup on kvNode ${node} failed: ${reason}`);
}

/** The naming cache learns of a keygroup another node created through its watch: wait for it. */
async function untilKnown(naming: NamingService, name: string, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await naming.getKeygroup(name);
    if (info) return info;
    if (Date.now() > deadline) throw new EnokiError('ERR_INTERNAL', `keygroup ${name} was created but the naming service does not show it`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
