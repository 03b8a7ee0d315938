// What GET /cluster shows: the keygroups this node holds with their members, the peers with
// whether their peering port answers and how far replication to them lags behind. A port: the
// composition root wires the cluster's view in cluster mode and the standalone one otherwise.

import type { ReplicaStore } from '../../replication/store/port.js';

export interface ClusterPeer {
  nodeId: string;
  /** host:port of its peering API; absent when the naming service has no address for it. */
  address?: string;
  /** Whether a TCP connection to that address opened within the probe's time. */
  reachable: boolean;
  /** Local writes not yet acknowledged by this peer (counted up to a cap; see pendingCapped). */
  pending: number;
  pendingCapped: boolean;
  /** Age of the oldest of them in milliseconds: how far this peer lags; 0 when nothing is owed. */
  lagMs: number;
}

export interface ClusterKeygroup {
  name: string;
  mutable: boolean;
  /** Member node ids, this node's included when it holds a replica. */
  members: { nodeId: string; expiry: number }[];
}

export interface ClusterStatus {
  mode: 'standalone' | 'cluster';
  nodeId: string;
  keygroups: ClusterKeygroup[];
  peers: ClusterPeer[];
  /** A part of the view that could not be read (e.g. the naming service is unreachable). */
  problems: string[];
}

export interface ClusterView {
  status(): Promise<ClusterStatus>;
}

/** A node on its own: its local keygroups, each with itself as the only member, and no peers. */
export class StandaloneClusterView implements ClusterView {
  constructor(
    private readonly nodeId: string,
    private readonly store: Pick<ReplicaStore, 'listKeygroups'>,
  ) {}

  async status(): Promise<ClusterStatus> {
    const keygroups = (await this.store.listKeygroups())
      .map((k) => ({ name: k.name, mutable: k.mutable, members: [{ nodeId: this.nodeId, expiry: k.expiry }] }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    return { mode: 'standalone', nodeId: this.nodeId, keygroups, peers: [], problems: [] };
  }
}
