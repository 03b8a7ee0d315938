// What a node does with FReD peering calls, in plain Enoki types: the gRPC server (peering-server.ts)
// validates and converts wire messages, then calls a PeeringHandler; GrpcPeerClient takes the same
// request types, so an in-memory transport can call a handler directly.
import type { PeerCertificate } from 'node:tls';
import type { Version } from '../store/port.js';

/** Who is calling, as far as the transport can tell. */
export interface PeerIdentity {
  /** The transport's view of the remote end, e.g. `127.0.0.1:51234`. */
  address: string;
  /**
   * Subject CN of the client certificate (FReD: the node id). Set only when TLS verified the
   * certificate against the server's CA and it has exactly one CN.
   */
  commonName?: string;
  /** The verified client certificate, for checks beyond the CN (SANs, fingerprint). */
  certificate?: PeerCertificate;
}

export interface CreateKeygroupPeerRequest {
  keygroup: string;
  /** Seconds after which items expire on the receiving node; 0 = never. */
  expiry: number;
}

export interface PutItemPeerRequest {
  keygroup: string;
  id: string;
  /** '' for a tombstone. */
  value: string;
  tombstone: boolean;
  version: Version;
}

/** An item of an immutable keygroup: decimal id, no version. */
export interface AppendItemPeerRequest {
  keygroup: string;
  id: string;
  value: string;
}

export interface ItemPeerRequest {
  keygroup: string;
  id: string;
}

/** One sibling of an item. On the wire a tombstone is a Data with an empty val. */
export interface PeerItem {
  id: string;
  value: string;
  tombstone: boolean;
  version: Version;
}

/**
 * Implementations throw errors with a stable `code` (StoreError codes, ERR_PERMISSION_DENIED);
 * status.ts maps them to gRPC statuses. Inputs reaching a handler are already syntactically valid.
 */
export interface PeeringHandler {
  createKeygroup(request: CreateKeygroupPeerRequest, peer: PeerIdentity): Promise<void>;
  deleteKeygroup(request: { keygroup: string }, peer: PeerIdentity): Promise<void>;
  /** FReD PutItem: merge one sibling by version; never forward it. */
  putItem(request: PutItemPeerRequest, peer: PeerIdentity): Promise<void>;
  appendItem(request: AppendItemPeerRequest, peer: PeerIdentity): Promise<void>;
  /** Live siblings of one item. */
  getItem(request: ItemPeerRequest, peer: PeerIdentity): Promise<PeerItem[]>;
  /** Every stored sibling of the keygroup, tombstones included (full sync of a new replica). */
  getAllItems(request: { keygroup: string }, peer: PeerIdentity): Promise<PeerItem[]>;
}
