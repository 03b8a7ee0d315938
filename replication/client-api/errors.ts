// Errors of the client API. Their gRPC statuses, like every other code's, are in the one table
// of replication/grpc/status.ts.
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

// Kept under their old names: the client API's statuses are the node's one table (grpc/status.ts).
export {
  GRPC_STATUS_BY_CODE as CLIENT_API_STATUS_BY_CODE,
  grpcStatusOf as clientStatusOf,
  toServiceError as toClientServiceError,
} from '../grpc/status.js';
