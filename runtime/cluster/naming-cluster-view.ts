// The cluster view in cluster mode, read-only: members per keygroup from the naming service,
// replication lag per peer from the durable outbox (what is still owed to it, and since when),
// and whether each peer's peering port accepts a TCP connection now.

import net from 'node:net';
import type { Outbox } from '../../replication/engine/outbox.js';
import type { NamingService } from '../../replication/naming/port.js';
import type { ReplicaStore } from '../../replication/store/port.js';
import type { ClusterPeer, ClusterStatus, ClusterView } from '../observe/cluster-view.js';

/** Outbox entries counted per peer; past this the count says "at least". */
const PENDING_CAP = 10_000;
const PROBE_MS = 1_000;

function probe(address: string, timeoutMs: number): Promise<boolean> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export class NamingClusterView implements ClusterView {
  constructor(
    private readonly deps: {
      nodeId: string;
      naming: NamingService;
      outbox: Outbox;
      store: Pick<ReplicaStore, 'listKeygroups'>;
      now?: () => number;
    },
  ) {}

  async status(): Promise<ClusterStatus> {
    const { nodeId, naming, outbox, store } = this.deps;
    const now = this.deps.now ?? Date.now;
    const problems: string[] = [];
    const local = new Set((await store.listKeygroups()).map((k) => k.name));
    const all = await naming.listKeygroups();
    // The keygroups this node holds or is a member of; the rest of the cluster's are not its business here.
    const keygroups = all
      .filter((k) => local.has(k.name) || k.replicas.some((r) => r.node === nodeId))
      .map((k) => ({ name: k.name, mutable: k.mutable, members: k.replicas.map((r) => ({ nodeId: r.node, expiry: r.expiry })) }));
    const peerIds = new Set<string>();
    for (const k of keygroups) for (const m of k.members) if (m.nodeId !== nodeId) peerIds.add(m.nodeId);
    let owed: string[] = [];
    try {
      owed = await outbox.peers();
    } catch (err) {
      problems.push(`the outbox could not be read: ${(err as Error).message}`);
    }
    for (const peer of owed) peerIds.add(peer);
    const peers = await Promise.all(
      [...peerIds].sort().map(async (peer): Promise<ClusterPeer> => {
        const address = (await naming.getNode(peer))?.address;
        let pending: { writtenAt: number }[] = [];
        if (owed.includes(peer)) {
          try {
            pending = (await outbox.peek(peer, PENDING_CAP)).map((r) => r.entry);
          } catch (err) {
            problems.push(`the outbox entries for ${peer} could not be read: ${(err as Error).message}`);
          }
        }
        const oldest = pending.reduce((min, e) => Math.min(min, e.writtenAt), Infinity);
        return {
          nodeId: peer,
          ...(address !== undefined && { address }),
          reachable: address !== undefined && (await probe(address, PROBE_MS)),
          pending: pending.length,
          pendingCapped: pending.length >= PENDING_CAP,
          lagMs: pending.length === 0 ? 0 : Math.max(0, now() - oldest),
        };
      }),
    );
    return { mode: 'cluster', nodeId, keygroups, peers, problems };
  }
}
