// The one table from Enoki error codes to gRPC statuses, used by every gRPC server of the node
// (peering, client API). Statuses come from an error's `code` property, never from its message.
import * as grpc from '@grpc/grpc-js';
import type { ClientApiErrorCode } from '../client-api/errors.js';
import type { MembershipUnavailableError } from '../engine/membership.js';
import type { OutboxError } from '../engine/outbox.js';
import type { PeerRequestErrorCode, PeerUnavailableError, PeerUnsupportedError } from '../engine/transport.js';
import type { NamingErrorCode } from '../naming/port.js';
import type { SecurityErrorCode } from '../security/identity.js';
import type { StoreErrorCode } from '../store/port.js';

/** Every code the replication layer can produce; the table below must map each, and only these. */
export type ReplicationErrorCode =
  | StoreErrorCode
  | NamingErrorCode
  | PeerRequestErrorCode
  | PeerUnavailableError['code']
  | PeerUnsupportedError['code']
  | MembershipUnavailableError['code']
  | OutboxError['code']
  | SecurityErrorCode
  | ClientApiErrorCode;

// A code shared by two layers (ERR_KEYGROUP_NOT_FOUND from the store and from naming) is one
// entry: it means the same to the caller, whichever layer noticed.
const STATUS = {
  // Store.
  ERR_KEYGROUP_NOT_FOUND: grpc.status.NOT_FOUND,
  ERR_ITEM_NOT_FOUND: grpc.status.NOT_FOUND,
  ERR_KEYGROUP_EXISTS: grpc.status.ALREADY_EXISTS,
  ERR_WRONG_MUTABILITY: grpc.status.FAILED_PRECONDITION,
  ERR_ITEM_EXISTS: grpc.status.FAILED_PRECONDITION,
  ERR_INVALID_KEY: grpc.status.INVALID_ARGUMENT,
  ERR_INVALID_VALUE: grpc.status.INVALID_ARGUMENT,
  // A conditional write met versions the caller has not seen: read again, then retry.
  ERR_VERSION_CONFLICT: grpc.status.FAILED_PRECONDITION,
  // The store is closing with the node: the caller should retry later or elsewhere.
  ERR_STORE_CLOSED: grpc.status.UNAVAILABLE,

  // Naming service (AddReplica, RemoveReplica, AddUser ... and membership reads).
  ERR_NODE_NOT_FOUND: grpc.status.NOT_FOUND,
  ERR_REPLICA_NOT_FOUND: grpc.status.NOT_FOUND,
  ERR_LAST_REPLICA: grpc.status.FAILED_PRECONDITION,
  ERR_INVALID_NAME: grpc.status.INVALID_ARGUMENT,
  ERR_INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  // A concurrent change of the same naming keys won: retrying is the right reaction.
  ERR_NAMING_CONFLICT: grpc.status.ABORTED,
  ERR_NAMING_UNAVAILABLE: grpc.status.UNAVAILABLE,
  ERR_NAMING_CLOSED: grpc.status.UNAVAILABLE,

  // Replication engine. UNAVAILABLE is "retry later": a sending engine keeps the write in its
  // outbox, whereas any other refusal counts towards dropping it (delivery.ts).
  ERR_PEER_UNAVAILABLE: grpc.status.UNAVAILABLE,
  ERR_MEMBERSHIP_UNAVAILABLE: grpc.status.UNAVAILABLE,
  ERR_PEER_UNSUPPORTED: grpc.status.UNIMPLEMENTED,
  ERR_NOT_A_MEMBER: grpc.status.PERMISSION_DENIED,
  ERR_STILL_A_MEMBER: grpc.status.FAILED_PRECONDITION,
  ERR_INVALID_PEER_MESSAGE: grpc.status.INVALID_ARGUMENT,
  // The outbox is closing with the node.
  ERR_OUTBOX_CLOSED: grpc.status.UNAVAILABLE,

  // Security: who is calling (peering is for node certificates, the client API for users).
  ERR_PEER_NOT_NODE: grpc.status.PERMISSION_DENIED,
  ERR_PEER_NO_CERTIFICATE: grpc.status.UNAUTHENTICATED,
  ERR_PEER_UNVERIFIED: grpc.status.UNAUTHENTICATED,
  ERR_PEER_NO_USER: grpc.status.UNAUTHENTICATED,
  // Certificate files and the certs CLI: the node's own setup, never the caller's doing, so
  // INTERNAL (logged, details withheld from the caller).
  ERR_CERT_INVALID_INPUT: grpc.status.INTERNAL,
  ERR_CERT_EXISTS: grpc.status.INTERNAL,
  ERR_CERT_MISSING: grpc.status.INTERNAL,
  ERR_CERT_MISMATCH: grpc.status.INTERNAL,

  // Client API.
  ERR_UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  ERR_PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  // The request is fine but must go to a node that is a replica (GetKeygroupInfo names them).
  ERR_NOT_A_REPLICA: grpc.status.FAILED_PRECONDITION,
  ERR_TRIGGER_NOT_FOUND: grpc.status.NOT_FOUND,
} as const satisfies Record<ReplicationErrorCode, grpc.status>;

export const GRPC_STATUS_BY_CODE: Readonly<Record<string, grpc.status>> = STATUS;

/** The gRPC status for an error; INTERNAL for anything without a known code. */
export function grpcStatusOf(error: unknown): grpc.status {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && Object.hasOwn(GRPC_STATUS_BY_CODE, code) ? GRPC_STATUS_BY_CODE[code]! : grpc.status.INTERNAL;
}

/**
 * The status a server sends for `error`. Known codes carry the error's message (written for the
 * caller); internal errors carry only the method name, since their text may expose host details.
 */
export function toServiceError(error: unknown, method: string): Partial<grpc.StatusObject> {
  const code = grpcStatusOf(error);
  if (code === grpc.status.INTERNAL) return { code, details: `internal error in ${method}` };
  return { code, details: error instanceof Error ? error.message : String(error) };
}
