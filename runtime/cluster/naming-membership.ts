// The replication engine's Membership and MissedWrites ports, answered by the naming service
// (FReD's kg|<K>|node|<N>, kg|<K>|expiry|node|<N> and failnode|<N>|kg|<K>|<id> keys, kept in
// memory by a watch).

import type { Member, Membership, MissedWrite, MissedWrites } from '../../replication/engine/membership.js';
import type { NamingService } from '../../replication/naming/port.js';

export class NamingMembership implements Membership, MissedWrites {
  constructor(
    readonly self: string,
    private readonly naming: NamingService,
  ) {}

  async members(keygroup: string): Promise<Member[]> {
    const info = await this.naming.getKeygroup(keygroup);
    return info ? info.replicas.map((r) => ({ nodeId: r.node, expiry: r.expiry })) : [];
  }

  async mutable(keygroup: string): Promise<boolean | undefined> {
    return (await this.naming.getKeygroup(keygroup))?.mutable;
  }

  subscribe(listener: (keygroup: string) => void): () => void {
    return this.naming.subscribe((change) => {
      if (change.kind === 'replica' || change.kind === 'keygroup') listener(change.keygroup);
    });
  }

  report(write: MissedWrite): Promise<void> {
    return this.naming.reportMissed(write);
  }

  list(node: string): Promise<MissedWrite[]> {
    return this.naming.listMissed(node);
  }

  clear(write: MissedWrite): Promise<void> {
    return this.naming.clearMissed(write);
  }

  watch(node: string, listener: () => void): () => void {
    return this.naming.subscribe((change) => {
      if (change.kind === 'missed' && change.node === node) listener();
    });
  }
}
