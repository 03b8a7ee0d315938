// What a FReD node sends: FReD's peering calls (mcc.fred.peering.Node) without Enoki's age
// extension, and FReD's reading of the answers (no ages). A test collaborator for the one peering
// server (engine-peering.ts); built from the production call helper and wire mapping.
import type * as grpc from '@grpc/grpc-js';
import type { ItemData } from '../../../replication/engine/transport.js';
import { UnaryCaller, type UnaryClientOptions } from '../../../replication/grpc/call.js';
import { appendItemToWire, createKeygroupToWire, itemDataFromWire, putItemToWire } from '../../../replication/grpc/engine-wire.js';
import { peeringService, type WireDataResponse } from '../../../replication/grpc/protos.js';
import type { Version } from '../../../replication/store/port.js';

/** An item as a FReD node sees it: no age. */
export type FredItem = Omit<ItemData, 'age'>;

const m = peeringService;

export class FredPeer {
  private readonly caller: UnaryCaller;

  constructor(
    readonly address: string,
    credentials: grpc.ChannelCredentials,
    options: UnaryClientOptions = {},
  ) {
    // GetAllItems answers a whole keygroup in one message: above grpc-js's 4 MiB default.
    this.caller = new UnaryCaller(address, credentials, options, { 'grpc.max_receive_message_length': 256 * 1024 * 1024 });
  }

  async createKeygroup({ keygroup, expiry }: { keygroup: string; expiry: number }): Promise<void> {
    await this.caller.call(m.CreateKeygroup!, createKeygroupToWire({ type: 'createKeygroup', keygroup, expiry }));
  }

  async deleteKeygroup(keygroup: string): Promise<void> {
    await this.caller.call(m.DeleteKeygroup!, { keygroup });
  }

  async putItem(item: { keygroup: string; id: string; value: string; tombstone: boolean; version: Version }): Promise<void> {
    await this.caller.call(m.PutItem!, putItemToWire({ type: 'putItem', ...item }));
  }

  async appendItem(item: { keygroup: string; id: string; value: string }): Promise<void> {
    await this.caller.call(m.AppendItem!, appendItemToWire({ type: 'appendItem', ...item }));
  }

  async getItem({ keygroup, id }: { keygroup: string; id: string }): Promise<FredItem[]> {
    return this.items(await this.caller.call(m.GetItem!, { keygroup, id }));
  }

  async getAllItems(keygroup: string): Promise<FredItem[]> {
    return this.items(await this.caller.call(m.GetAllItems!, { keygroup }));
  }

  close(): void {
    this.caller.close();
  }

  private items(response: unknown): FredItem[] {
    return (response as WireDataResponse).data.map((data) => {
      const { id, value, tombstone, version } = itemDataFromWire(data, this.address);
      return { id, value, tombstone, version };
    });
  }
}
