// GrpcPeerTransport: the replication engine's PeerTransport over gRPC — FReD's peering service
// (with Enoki's age extension) and Enoki's AntiEntropy service, one channel per peer node.
import * as grpc from '@grpc/grpc-js';
import {
  PeerUnavailableError,
  PeerUnsupportedError,
  type DigestRequest,
  type DigestResponse,
  type ItemData,
  type ItemRequest,
  type KeygroupRequest,
  type PeerMessage,
  type PeerTransport,
} from '../engine/transport.js';
import { DEFAULT_DEADLINE_MS, GrpcCallError, positiveMs, UnaryCaller } from './call.js';
import {
  appendItemToWire,
  createKeygroupToWire,
  digestRequestToWire,
  digestResponseFromWire,
  INSECURE_PEER_HEADER,
  itemDataFromWire,
  putItemToWire,
} from './engine-wire.js';
import { antiEntropyService, peeringService, type WireDataResponse, type WireDigestResponse } from './protos.js';

// Defined with the engine's other transport errors; re-exported for code that imported it here.
export { PeerUnsupportedError };

export type PeerCredentials =
  | grpc.ChannelCredentials
  /** Per peer, e.g. `(id) => clientCredentials(dir, self, { serverNodeId: id })`; asked once per peer. */
  | ((nodeId: string) => grpc.ChannelCredentials | Promise<grpc.ChannelCredentials>);

export interface GrpcPeerTransportOptions {
  /** A node's peering address (host:port), e.g. from NamingService.getNode(id)?.address; asked per call. */
  resolve: (nodeId: string) => Promise<string | undefined>;
  credentials: PeerCredentials;
  /** Deadline of each call except GetAllItems. Default 5 s. */
  deadlineMs?: number;
  /** Deadline of GetAllItems, which copies a whole keygroup. Default 60 s. */
  fullCopyDeadlineMs?: number;
  /** Extra channel options, merged over the defaults below. */
  channelOptions?: grpc.ChannelOptions;
  /**
   * Tests and local development only: send this node id in a header for a server started with
   * `insecureTrustPeerHeader`. Over mTLS the server reads the id from the certificate instead.
   */
  insecureClaimNodeId?: string;
}

/**
 * GetAllItems and digest answers carry whole keygroups or buckets in one message, so the 4 MiB
 * grpc-js default would cap the keygroup size that can be copied to a new replica.
 */
const DEFAULT_CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc.max_receive_message_length': 256 * 1024 * 1024 };

/** Unavailable means "retry later": the engine's outbox does exactly that, and every message is idempotent. */
const UNAVAILABLE_STATUSES = new Set<grpc.status>([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.CANCELLED]);

const m = peeringService;
const PUT_ITEM = m.PutItem!;
const APPEND_ITEM = m.AppendItem!;
const CREATE_KEYGROUP = m.CreateKeygroup!;
const DELETE_KEYGROUP = m.DeleteKeygroup!;
const GET_ITEM = m.GetItem!;
const GET_ALL_ITEMS = m.GetAllItems!;
const EXCHANGE_DIGEST = antiEntropyService.ExchangeDigest!;

/**
 * Errors, as the engine expects them (engine/delivery.ts isUnavailable):
 * - PeerUnavailableError: no address known, connection refused or lost, deadline passed, TLS
 *   handshake refused, transport closed — the call may or may not have been applied.
 * - PeerUnsupportedError: the peer does not implement the method (FReD and ExchangeDigest).
 * - GrpcCallError (numeric grpc `code`): the peer answered with a refusal (PERMISSION_DENIED,
 *   INVALID_ARGUMENT, ...); the outbox counts these towards dropping an entry.
 * - StoreError ERR_INVALID_VALUE: the peer's answer held something Enoki cannot represent.
 */
export class GrpcPeerTransport implements PeerTransport {
  private readonly channels = new Map<string, UnaryCaller>();
  private readonly credentialsByPeer = new Map<string, Promise<grpc.ChannelCredentials>>();
  private readonly deadlineMs: number;
  private readonly fullCopyDeadlineMs: number;
  private readonly channelOptions: grpc.ChannelOptions;
  private readonly metadata = new grpc.Metadata();
  private closed = false;

  constructor(private readonly options: GrpcPeerTransportOptions) {
    this.deadlineMs = positiveMs(options.deadlineMs ?? DEFAULT_DEADLINE_MS, 'deadlineMs');
    this.fullCopyDeadlineMs = positiveMs(options.fullCopyDeadlineMs ?? 60_000, 'fullCopyDeadlineMs');
    this.channelOptions = { ...DEFAULT_CHANNEL_OPTIONS, ...options.channelOptions };
    if (options.insecureClaimNodeId !== undefined) this.metadata.set(INSECURE_PEER_HEADER, options.insecureClaimNodeId);
  }

  async send(peer: string, message: PeerMessage): Promise<void> {
    switch (message.type) {
      case 'putItem':
        return void (await this.call(peer, PUT_ITEM, putItemToWire(message)));
      case 'appendItem':
        return void (await this.call(peer, APPEND_ITEM, appendItemToWire(message)));
      case 'createKeygroup':
        return void (await this.call(peer, CREATE_KEYGROUP, createKeygroupToWire(message)));
      case 'deleteKeygroup':
        return void (await this.call(peer, DELETE_KEYGROUP, { keygroup: message.keygroup }));
      default:
        throw new TypeError(`unknown peer message ${JSON.stringify((message as { type?: unknown }).type)}`);
    }
  }

  async getItem(peer: string, { keygroup, id }: ItemRequest): Promise<ItemData[]> {
    const response = await this.call<WireDataResponse>(peer, GET_ITEM, { keygroup, id });
    return response.data.map((data) => itemDataFromWire(data, peer));
  }

  async getAllItems(peer: string, { keygroup }: KeygroupRequest): Promise<ItemData[]> {
    const response = await this.call<WireDataResponse>(peer, GET_ALL_ITEMS, { keygroup }, this.fullCopyDeadlineMs);
    return response.data.map((data) => itemDataFromWire(data, peer));
  }

  async exchangeDigest(peer: string, request: DigestRequest): Promise<DigestResponse> {
    const response = await this.call<WireDigestResponse>(peer, EXCHANGE_DIGEST, digestRequestToWire(request));
    return digestResponseFromWire(response, peer);
  }

  /** Closes every channel; later calls fail with PeerUnavailableError. Stop the engine first. */
  close(): void {
    this.closed = true;
    for (const channel of this.channels.values()) channel.close();
    this.channels.clear();
  }

  private async call<Res>(
    peer: string,
    method: grpc.MethodDefinition<unknown, unknown>,
    request: unknown,
    deadlineMs = this.deadlineMs,
  ): Promise<Res> {
    const channel = await this.channel(peer);
    try {
      return (await channel.call(method, request, { deadlineMs })) as Res;
    } catch (error) {
      throw translate(peer, error);
    }
  }

  /**
   * The channel to the peer's current address. Resolved on every call (the naming service
   * caches), so a node that moved is reached at its new address from the next call on; the old
   * channel is closed, and calls still on it fail as unavailable and are retried by the engine.
   */
  private async channel(peer: string): Promise<UnaryCaller> {
    if (this.closed) throw new PeerUnavailableError(peer, 'peer transport closed');
    let address: string | undefined;
    try {
      address = await this.options.resolve(peer);
    } catch (error) {
      throw new PeerUnavailableError(peer, `peering address of node ${peer} unknown: ${(error as Error)?.message ?? error}`, { cause: error });
    }
    if (!address) throw new PeerUnavailableError(peer, `no peering address known for node ${peer}`);
    const current = this.channels.get(peer);
    if (current?.address === address) return current;
    const credentials = await this.credentials(peer);
    if (this.closed) throw new PeerUnavailableError(peer, 'peer transport closed');
    // Another call may have opened the channel while credentials were awaited.
    const now = this.channels.get(peer);
    if (now?.address === address) return now;
    now?.close();
    const channel = new UnaryCaller(address, credentials, {
      deadlineMs: this.deadlineMs,
      metadata: this.metadata,
      channelOptions: this.channelOptions,
    });
    this.channels.set(peer, channel);
    return channel;
  }

  private credentials(peer: string): Promise<grpc.ChannelCredentials> {
    const { credentials } = this.options;
    if (typeof credentials !== 'function') return Promise.resolve(credentials);
    let promise = this.credentialsByPeer.get(peer);
    if (!promise) {
      // A local failure (e.g. a certificate file missing) must not read as the peer refusing the
      // write, which would eventually drop it from the outbox: it is "retry later", and not cached.
      promise = Promise.resolve()
        .then(() => credentials(peer))
        .catch((error: unknown) => {
          this.credentialsByPeer.delete(peer);
          throw new PeerUnavailableError(peer, `no credentials for node ${peer}: ${(error as Error)?.message ?? error}`, { cause: error });
        });
      this.credentialsByPeer.set(peer, promise);
    }
    return promise;
  }
}

function translate(peer: string, error: unknown): unknown {
  if (!(error instanceof GrpcCallError)) return error;
  if (UNAVAILABLE_STATUSES.has(error.code)) {
    return new PeerUnavailableError(peer, `peer ${peer} at ${error.address} is unavailable: ${error.message}`, { cause: error });
  }
  if (error.code === grpc.status.UNIMPLEMENTED) {
    return new PeerUnsupportedError(peer, `peer ${peer} at ${error.address} does not implement ${error.method}`, { cause: error });
  }
  return error;
}
