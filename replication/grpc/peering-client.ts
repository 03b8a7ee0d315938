// GrpcPeerClient: calls FReD's peering service (mcc.fred.peering.Node) of one peer node, with a
// deadline per call and results in Enoki's types.
import type * as grpc from '@grpc/grpc-js';
import { StoreError } from '../store/port.js';
import { UnaryCaller, type UnaryClientOptions } from './call.js';
import type {
  AppendItemPeerRequest,
  CreateKeygroupPeerRequest,
  ItemPeerRequest,
  PeerItem,
  PutItemPeerRequest,
} from './peering-handler.js';
import {
  peeringService,
  type WireAppendItemRequest,
  type WireCreateKeygroupRequest,
  type WireDataResponse,
  type WireEmpty,
  type WireItemRequest,
  type WireKeygroupRequest,
  type WirePutItemRequest,
} from './protos.js';
import { versionFromWire, versionToWire } from './wire.js';

const m = peeringService;
const CREATE_KEYGROUP = m.CreateKeygroup as grpc.MethodDefinition<WireCreateKeygroupRequest, WireEmpty>;
const DELETE_KEYGROUP = m.DeleteKeygroup as grpc.MethodDefinition<WireKeygroupRequest, WireEmpty>;
const PUT_ITEM = m.PutItem as grpc.MethodDefinition<WirePutItemRequest, WireEmpty>;
const APPEND_ITEM = m.AppendItem as grpc.MethodDefinition<WireAppendItemRequest, WireEmpty>;
const GET_ITEM = m.GetItem as grpc.MethodDefinition<WireItemRequest, WireDataResponse>;
const GET_ALL_ITEMS = m.GetAllItems as grpc.MethodDefinition<WireKeygroupRequest, WireDataResponse>;

/**
 * GetAllItems returns a whole keygroup in one message, so the 4 MiB grpc-js default would cap the
 * size of a keygroup that can be copied to a new replica. Override with channelOptions.
 */
const DEFAULT_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 256 * 1024 * 1024,
};

/**
 * Calls fail with GrpcCallError (status `code`, peer `address`). A peer answering with a version
 * counter Enoki cannot hold exactly fails with StoreError ERR_INVALID_VALUE naming the peer.
 */
export class GrpcPeerClient {
  private readonly caller: UnaryCaller;

  constructor(
    readonly address: string,
    credentials: grpc.ChannelCredentials,
    options: UnaryClientOptions = {},
  ) {
    this.caller = new UnaryCaller(address, credentials, options, DEFAULT_CHANNEL_OPTIONS);
  }

  async createKeygroup({ keygroup, expiry }: CreateKeygroupPeerRequest): Promise<void> {
    if (!Number.isSafeInteger(expiry) || expiry < 0) {
      throw new StoreError('ERR_INVALID_VALUE', `invalid expiry ${expiry}: whole seconds >= 0 expected`);
    }
    await this.caller.call(CREATE_KEYGROUP, { keygroup, expiry: expiry.toFixed(0) });
  }

  async deleteKeygroup(keygroup: string): Promise<void> {
    await this.caller.call(DELETE_KEYGROUP, { keygroup });
  }

  async putItem({ keygroup, id, value, tombstone, version }: PutItemPeerRequest): Promise<void> {
    await this.caller.call(PUT_ITEM, {
      keygroup,
      id,
      val: tombstone ? '' : value,
      tombstoned: tombstone,
      version: versionToWire(version),
    });
  }

  async appendItem({ keygroup, id, value }: AppendItemPeerRequest): Promise<void> {
    await this.caller.call(APPEND_ITEM, { keygroup, id, data: value });
  }

  /** Live siblings of the item on the peer. */
  async getItem({ keygroup, id }: ItemPeerRequest): Promise<PeerItem[]> {
    return this.items('GetItem', await this.caller.call(GET_ITEM, { keygroup, id }));
  }

  /** Every sibling of the keygroup on the peer, tombstones included. */
  async getAllItems(keygroup: string): Promise<PeerItem[]> {
    return this.items('GetAllItems', await this.caller.call(GET_ALL_ITEMS, { keygroup }));
  }

  close(): void {
    this.caller.close();
  }

  private items(method: string, response: WireDataResponse): PeerItem[] {
    return response.data.map((data) => {
      let version;
      try {
        version = versionFromWire(data.version);
      } catch (error) {
        throw new StoreError('ERR_INVALID_VALUE', `${method} from ${this.address}, item ${data.id}: ${(error as Error).message}`);
      }
      // An empty val is a tombstone: FReD's Data has no separate flag.
      return { id: data.id, value: data.val, tombstone: data.val === '', version };
    });
  }
}
