// A PeeringHandler over the node's ReplicaStore: peers' writes are merged by version, reads come
// from the local replica.
import { StoreError, type ReplicaStore, type Sibling } from '../store/port.js';
import type {
  AppendItemPeerRequest,
  CreateKeygroupPeerRequest,
  ItemPeerRequest,
  PeerItem,
  PeeringHandler,
  PutItemPeerRequest,
} from './peering-handler.js';

export interface StorePeeringHandlerOptions {
  /**
   * Whether a keygroup is mutable. FReD's peering CreateKeygroup does not say: the cluster's
   * naming service knows (kg|<K>|mutable). Defaults to mutable.
   */
  mutabilityOf?: (keygroup: string) => boolean | Promise<boolean>;
}

/**
 * Authorisation of the calling peer is not done here: wrap this handler (or check `peer` before
 * the server) where the cluster's node list is known.
 */
export class StorePeeringHandler implements PeeringHandler {
  private readonly mutabilityOf: (keygroup: string) => boolean | Promise<boolean>;

  constructor(
    private readonly store: ReplicaStore,
    options: StorePeeringHandlerOptions = {},
  ) {
    this.mutabilityOf = options.mutabilityOf ?? (() => true);
  }

  async createKeygroup({ keygroup, expiry }: CreateKeygroupPeerRequest): Promise<void> {
    const mutable = await this.mutabilityOf(keygroup);
    await this.store.createKeygroup({ name: keygroup, mutable, expiry });
  }

  async deleteKeygroup({ keygroup }: { keygroup: string }): Promise<void> {
    await this.store.deleteKeygroup(keygroup);
  }

  async putItem({ keygroup, id, value, tombstone, version }: PutItemPeerRequest): Promise<void> {
    await this.requireMutability(keygroup, true, 'PutItem');
    await this.store.mergeRemote(keygroup, id, { value, tombstone, version });
  }

  /**
   * Stored with an empty version, as FReD does. A repeated append of a stored id compares equal
   * and is ignored, so a replayed append is harmless; the first value stays.
   */
  async appendItem({ keygroup, id, value }: AppendItemPeerRequest): Promise<void> {
    await this.requireMutability(keygroup, false, 'AppendItem');
    await this.store.mergeRemote(keygroup, id, { value, tombstone: false, version: {} });
  }

  async getItem({ keygroup, id }: ItemPeerRequest): Promise<PeerItem[]> {
    return (await this.store.read(keygroup, id)).map((sibling) => toPeerItem(id, sibling));
  }

  async getAllItems({ keygroup }: { keygroup: string }): Promise<PeerItem[]> {
    const items: PeerItem[] = [];
    for await (const { id, siblings } of this.store.dump(keygroup)) {
      for (const sibling of siblings) items.push(toPeerItem(id, sibling));
    }
    return items;
  }

  // The store merges any live sibling into any keygroup; versioned puts into an immutable
  // keygroup or unversioned appends into a mutable one would break its write rules.
  private async requireMutability(keygroup: string, mutable: boolean, method: string): Promise<void> {
    const info = await this.store.getKeygroup(keygroup);
    if (!info) throw new StoreError('ERR_KEYGROUP_NOT_FOUND', `keygroup ${keygroup} does not exist`);
    if (info.mutable !== mutable) {
      throw new StoreError(
        'ERR_WRONG_MUTABILITY',
        `keygroup ${keygroup} is ${info.mutable ? 'mutable' : 'immutable'}: ${method} is not allowed`,
      );
    }
  }
}

function toPeerItem(id: string, sibling: Sibling): PeerItem {
  return { id, value: sibling.value, tombstone: sibling.tombstone, version: sibling.version };
}
