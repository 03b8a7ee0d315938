// The replication engine's Membership port, answered by the naming service (FReD's
// kg|<K>|node|<N> and kg|<K>|expiry|node|<N> keys, kept in memory by a watch).

import type { Member, Membership } from '../../replication/engine/membership.js';
import type { NamingService } from '../../replication/naming/port.js';

export class NamingMembership implements Membership {
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
}
