// The one table from Enoki error codes to gRPC statuses, used by every gRPC server of the node.
// Statuses come from an error's `code` property, never from its message.
import * as grpc from '@grpc/grpc-js';
import type { StoreErrorCode } from '../store/port.js';

const STORE_STATUS = {
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
} as const satisfies Record<StoreErrorCode, grpc.status>;

export const GRPC_STATUS_BY_CODE: Readonly<Record<string, grpc.status>> = {
  ...STORE_STATUS,
  // For handlers that authorise peers or users (roles, peering restricted to node certificates).
  ERR_PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  ERR_UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
};

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
