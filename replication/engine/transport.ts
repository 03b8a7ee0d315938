// The PeerTransport port: node-to-node messages (FReD's peering API plus Enoki's digest exchange).
//
// Everything here is plain data so that a transport adapter (gRPC, in-memory) can serialise it
// without knowing the engine. Mapping to FReD's `mcc.fred.peering.Node` service:
//   putItem        → PutItem{keygroup, id, val, tombstoned, version}   (`age` is an Enoki extension)
//   appendItem     → AppendItem{keygroup, id, data}                    (`age` is an Enoki extension)
//   createKeygroup → CreateKeygroup{keygroup, expiry}
//   deleteKeygroup → DeleteKeygroup{keygroup}
//   getItem / getAllItems → GetItem / GetAllItems; FReD's Data has no tombstone flag: a tombstone
//                    travels as val '' (tombstone: true here), `age` is an Enoki extension
//   exchangeDigest → Enoki only (FReD nodes answer UNIMPLEMENTED; the engine then skips them)
import type { Version } from '../store/port.js';

export type { Version };

/**
 * `age`: milliseconds since the sibling was first stored anywhere, as far as the sender knows.
 * Receivers use it to avoid storing (and thereby restarting the expiry of) siblings that have
 * already outlived their own expiry. Absent (e.g. from a FReD node) means 0.
 */
export interface PutItemMessage {
  type: 'putItem';
  keygroup: string;
  id: string;
  /** '' for a tombstone. */
  value: string;
  tombstone: boolean;
  version: Version;
  age?: number;
}

export interface AppendItemMessage {
  type: 'appendItem';
  keygroup: string;
  id: string;
  value: string;
  age?: number;
}

/** "You are now a replica of this keygroup, with this expiry (seconds, 0 = never)". */
export interface CreateKeygroupMessage {
  type: 'createKeygroup';
  keygroup: string;
  expiry: number;
}

export interface DeleteKeygroupMessage {
  type: 'deleteKeygroup';
  keygroup: string;
}

/** One-way messages: the peer answers with nothing but success or an error. */
export type PeerMessage = PutItemMessage | AppendItemMessage | CreateKeygroupMessage | DeleteKeygroupMessage;

export interface ItemRequest {
  keygroup: string;
  id: string;
}

export interface KeygroupRequest {
  keygroup: string;
}

/** One stored sibling as it travels between peers (FReD's Data plus tombstone flag and age). */
export interface SiblingData {
  value: string;
  version: Version;
  tombstone: boolean;
  age?: number;
}

/** FReD's Data{id, val, version}: one row per sibling, tombstones included. */
export interface ItemData extends SiblingData {
  id: string;
}

/**
 * Anti-entropy, step 1 (initiator → responder): the initiator's bucket hashes of one keygroup.
 * `buckets` is a power of two; `hashes[i]` is the hash of bucket i ('' = empty). `horizon` (ms,
 * 0 = none): both sides leave out siblings at least that old, so replicas whose expiries differ
 * compare only what both are meant to hold. At most `maxBuckets` differing buckets are answered.
 */
export interface DigestRequest {
  keygroup: string;
  buckets: number;
  horizon: number;
  hashes: string[];
  maxBuckets: number;
}

/**
 * Anti-entropy, step 2 (responder → initiator): which buckets differ (possibly a subset, see
 * maxBuckets) and the responder's items in exactly those buckets, with all their siblings inside
 * the horizon. Equal replicas answer `{ differing: [], items: [] }`.
 */
export interface DigestResponse {
  differing: number[];
  items: Array<{ id: string; siblings: SiblingData[] }>;
}

/** The sending side, one instance per node; `peer` is the target node id. */
export interface PeerTransport {
  /** Resolves when the peer has applied the message. */
  send(peer: string, message: PeerMessage): Promise<void>;
  /** Every stored sibling of one item, tombstones included. */
  getItem(peer: string, request: ItemRequest): Promise<ItemData[]>;
  /** Every stored sibling of every item of a keygroup, tombstones included (full sync). */
  getAllItems(peer: string, request: KeygroupRequest): Promise<ItemData[]>;
  exchangeDigest(peer: string, request: DigestRequest): Promise<DigestResponse>;
}

/**
 * The receiving side, implemented by ReplicationEngine. `from` is the authenticated node id of the
 * caller (the certificate CN for gRPC); the engine only accepts data from members of the keygroup.
 */
export interface PeerHandler {
  handle(from: string, message: PeerMessage): Promise<void>;
  getItem(from: string, request: ItemRequest): Promise<ItemData[]>;
  getAllItems(from: string, request: KeygroupRequest): Promise<ItemData[]>;
  exchangeDigest(from: string, request: DigestRequest): Promise<DigestResponse>;
}

/**
 * The peer could not be reached or did not answer in time; the request may or may not have been
 * applied. Retrying is always safe: every peer message is idempotent.
 */
export class PeerUnavailableError extends Error {
  readonly code = 'ERR_PEER_UNAVAILABLE';
  constructor(
    readonly peer: string,
    message = `peer ${peer} is unavailable`,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PeerUnavailableError';
  }
}

/**
 * The peer is reachable but does not offer the call: in practice a FReD node asked for Enoki's
 * digest exchange (gRPC UNIMPLEMENTED). Not worth retrying against that peer until it is
 * upgraded: joining reconciles with it through its full copy (GetAllItems) instead, and
 * anti-entropy rounds skip it (its writes arrive as PutItem, ours reach it from the outbox).
 */
export class PeerUnsupportedError extends Error {
  readonly code = 'ERR_PEER_UNSUPPORTED';
  constructor(
    readonly peer: string,
    message = `peer ${peer} does not support this call`,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PeerUnsupportedError';
  }
}

/** Checks by code, so errors of an adapter's own classes with the same code count too. */
export function isPeerUnsupported(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 'ERR_PEER_UNSUPPORTED';
}

export type PeerRequestErrorCode =
  /** The caller is not a member of the keygroup (or this node is not). */
  | 'ERR_NOT_A_MEMBER'
  /** DeleteKeygroup refused: membership still lists this node, and the sender is no member. */
  | 'ERR_STILL_A_MEMBER'
  /** The message is malformed (e.g. a digest whose bucket count is not a power of two). */
  | 'ERR_INVALID_PEER_MESSAGE';

/** A peer request refused by the receiving engine (store errors are passed through as they are). */
export class PeerRequestError extends Error {
  constructor(
    readonly code: PeerRequestErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PeerRequestError';
  }
}
