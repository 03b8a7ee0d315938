// Errors of the client API and the gRPC status of every code it can meet: the shared table of
// replication/grpc/status.ts, extended with the naming service's codes and this layer's own.
import * as grpc from '@grpc/grpc-js';
import type { NamingErrorCode } from '../naming/port.js';
import { GRPC_STATUS_BY_CODE } from '../grpc/status.js';

export type ClientApiErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_UNAUTHENTICATED'
  | 'ERR_PERMISSION_DENIED'
  /** Conditional Update/Delete: a stored version is not covered by the given ones. */
  | 'ERR_VERSION_CONFLICT'
  /** The keygroup exists but this node holds no copy of it. */
  | 'ERR_NOT_A_REPLICA'
  | 'ERR_TRIGGER_NOT_FOUND';

export class ClientApiError extends Error {
  constructor(
    readonly code: ClientApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ClientApiError';
  }
}

const CLIENT_API_STATUS = {
  ERR_INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  ERR_UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  ERR_PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  ERR_VERSION_CONFLICT: grpc.status.FAILED_PRECONDITION,
  // The request is fine but must go to a node that is a replica (GetKeygroupInfo names them).
  ERR_NOT_A_REPLICA: grpc.status.FAILED_PRECONDITION,
  ERR_TRIGGER_NOT_FOUND: grpc.status.NOT_FOUND,
} as const satisfies Record<ClientApiErrorCode, grpc.status>;

// status.ts does not know the naming service's codes (yet); they reach clients through AddReplica,
// RemoveReplica, AddUser and the rest, so they are mapped here.
const NAMING_STATUS = {
  ERR_KEYGROUP_EXISTS: grpc.status.ALREADY_EXISTS,
  ERR_KEYGROUP_NOT_FOUND: grpc.status.NOT_FOUND,
  ERR_NODE_NOT_FOUND: grpc.status.NOT_FOUND,
  ERR_REPLICA_NOT_FOUND: grpc.status.NOT_FOUND,
  ERR_LAST_REPLICA: grpc.status.FAILED_PRECONDITION,
  ERR_INVALID_NAME: grpc.status.INVALID_ARGUMENT,
  ERR_INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  // A concurrent change of the same naming keys won: retrying is the right reaction.
  ERR_NAMING_CONFLICT: grpc.status.ABORTED,
  ERR_NAMING_UNAVAILABLE: grpc.status.UNAVAILABLE,
  ERR_NAMING_CLOSED: grpc.status.UNAVAILABLE,
} as const satisfies Record<NamingErrorCode, grpc.status>;

// The replication engine's code for a peer it could not reach (joining a keygroup needs one).
const ENGINE_STATUS = { ERR_PEER_UNAVAILABLE: grpc.status.UNAVAILABLE } as const;

/** Shared codes keep the status status.ts gives them; only codes it lacks are added. */
export const CLIENT_API_STATUS_BY_CODE: Readonly<Record<string, grpc.status>> = {
  ...NAMING_STATUS,
  ...ENGINE_STATUS,
  ...CLIENT_API_STATUS,
  ...GRPC_STATUS_BY_CODE,
};

/** The gRPC status for an error, from its `code` only; INTERNAL for anything unknown. */
export function clientStatusOf(error: unknown): grpc.status {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && Object.hasOwn(CLIENT_API_STATUS_BY_CODE, code)
    ? CLIENT_API_STATUS_BY_CODE[code]!
    : grpc.status.INTERNAL;
}

/**
 * The status sent for `error`. Known codes carry the error's message (written for the caller);
 * internal errors carry only the method name, since their text may expose host details.
 */
export function toClientServiceError(error: unknown, method: string): Partial<grpc.StatusObject> {
  const code = clientStatusOf(error);
  if (code === grpc.status.INTERNAL) return { code, details: `internal error in ${method}` };
  return { code, details: error instanceof Error ? error.message : String(error) };
}
