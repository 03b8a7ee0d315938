// The one table of the node's stable error codes: for each, the HTTP status the node's HTTP API
// answers with, the gRPC status its FReD APIs answer with, and whose fault it is. Both layers read
// it (runtime/errors.ts for HTTP, replication/grpc/status.ts for gRPC), so a code means the same
// everywhere; statuses come from an error's code, never from its message. It lives in
// replication/ because that layer may not import the runtime; the runtime's codes are here too.
//
// Blame: 'client' (the caller sent something wrong), 'guest' (the function's code failed),
// 'host' (this node failed: disk, a crashed worker, shutdown, overload), 'peer' (another node
// or an external service failed or misbehaved).

export type Blame = 'client' | 'guest' | 'host' | 'peer';

/** gRPC status codes (grpc/status.ts checks them against grpc-js's; no gRPC import here). */
export const GRPC = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export interface ErrorEntry {
  http: number;
  grpc: number;
  blame: Blame;
}

const e = (http: number, grpc: number, blame: Blame): ErrorEntry => ({ http, grpc, blame });

export const ERROR_TABLE = {
  // Requests.
  ERR_BAD_REQUEST: e(400, GRPC.INVALID_ARGUMENT, 'client'),
  ERR_INVALID_NAME: e(400, GRPC.INVALID_ARGUMENT, 'client'),
  ERR_INVALID_OPTION: e(400, GRPC.INVALID_ARGUMENT, 'client'),
  ERR_INVALID_ARGUMENT: e(400, GRPC.INVALID_ARGUMENT, 'client'),
  ERR_UNAUTHORIZED: e(401, GRPC.UNAUTHENTICATED, 'client'),
  ERR_UNAUTHENTICATED: e(401, GRPC.UNAUTHENTICATED, 'client'),
  ERR_PERMISSION_DENIED: e(403, GRPC.PERMISSION_DENIED, 'client'),
  /** X-Enoki-Call-Signature present but stale, replayed, tampered with or made with another secret. */
  ERR_CALL_SIGNATURE_INVALID: e(401, GRPC.UNAUTHENTICATED, 'client'),
  ERR_BODY_TOO_LARGE: e(413, GRPC.RESOURCE_EXHAUSTED, 'client'),
  ERR_ROUTE_NOT_FOUND: e(404, GRPC.NOT_FOUND, 'client'),

  // Functions and their components.
  ERR_FUNCTION_NOT_FOUND: e(404, GRPC.NOT_FOUND, 'client'),
  ERR_VERSION_NOT_FOUND: e(404, GRPC.NOT_FOUND, 'client'),
  ERR_INVOCATION_NOT_FOUND: e(404, GRPC.NOT_FOUND, 'client'),
  ERR_NO_PREVIOUS_VERSION: e(409, GRPC.FAILED_PRECONDITION, 'client'),
  ERR_NOT_WASM: e(422, GRPC.INVALID_ARGUMENT, 'client'),
  ERR_NOT_COMPONENT: e(422, GRPC.INVALID_ARGUMENT, 'client'),
  ERR_WRONG_WORLD: e(422, GRPC.INVALID_ARGUMENT, 'client'),
  ERR_INVALID_COMPONENT: e(422, GRPC.INVALID_ARGUMENT, 'client'),

  // A guest's own failures.
  ERR_GUEST_TRAP: e(500, GRPC.INTERNAL, 'guest'),
  ERR_GUEST_ERROR: e(500, GRPC.INTERNAL, 'guest'),
  ERR_GUEST_BAD_RESPONSE: e(502, GRPC.INTERNAL, 'guest'),
  ERR_MEMORY_LIMIT: e(500, GRPC.RESOURCE_EXHAUSTED, 'guest'),
  ERR_TIMEOUT: e(504, GRPC.DEADLINE_EXCEEDED, 'guest'),
  /** A chain of function calls went past the node's depth limit (508 Loop Detected). */
  ERR_CALL_TOO_DEEP: e(508, GRPC.FAILED_PRECONDITION, 'guest'),
  /** An async invocation's response is larger than ENOKI_ASYNC_RESULT_MAX_BYTES: not kept. */
  ERR_ASYNC_RESULT_TOO_LARGE: e(502, GRPC.RESOURCE_EXHAUSTED, 'guest'),
  /** A wasi:http guest's outgoing request went to a host its deploy did not allow (allowHost=). */
  ERR_HTTP_HOST_NOT_ALLOWED: e(502, GRPC.PERMISSION_DENIED, 'guest'),

  // The node's own failures.
  ERR_INTERNAL: e(500, GRPC.INTERNAL, 'host'),
  ERR_COMMIT_FAILED: e(500, GRPC.INTERNAL, 'host'),
  /** The worker thread running the call died (not the guest's trap: the host process's thread). */
  ERR_WORKER_CRASHED: e(500, GRPC.INTERNAL, 'host'),
  ERR_OVERLOADED: e(503, GRPC.RESOURCE_EXHAUSTED, 'host'),
  ERR_SHUTTING_DOWN: e(503, GRPC.UNAVAILABLE, 'host'),
  /** The node stopped while an accepted async invocation ran; its outcome is unknown. */
  ERR_INVOCATION_INTERRUPTED: e(503, GRPC.UNAVAILABLE, 'host'),
  /** An async invocation's result could not be written to the node's disk. */
  ERR_RESULT_STORE_FAILED: e(500, GRPC.INTERNAL, 'host'),
  // The store is closing with the node: the caller should retry later or elsewhere.
  ERR_STORE_CLOSED: e(503, GRPC.UNAVAILABLE, 'host'),
  ERR_OUTBOX_CLOSED: e(503, GRPC.UNAVAILABLE, 'host'),
  ERR_NAMING_CLOSED: e(503, GRPC.UNAVAILABLE, 'host'),
  // Certificate files and the certs CLI: the node's own setup, never the caller's doing.
  ERR_CERT_INVALID_INPUT: e(500, GRPC.INTERNAL, 'host'),
  ERR_CERT_EXISTS: e(500, GRPC.INTERNAL, 'host'),
  ERR_CERT_MISSING: e(500, GRPC.INTERNAL, 'host'),
  ERR_CERT_MISMATCH: e(500, GRPC.INTERNAL, 'host'),

  // Other nodes and services.
  /** A call routed to another node could not be made or answered (network, TLS, bad answer). */
  ERR_CALL_UNAVAILABLE: e(502, GRPC.UNAVAILABLE, 'peer'),
  /** Another node the request needs (a function's kvNode) did not answer. */
  ERR_NODE_UNAVAILABLE: e(503, GRPC.UNAVAILABLE, 'peer'),
  ERR_PEER_UNAVAILABLE: e(503, GRPC.UNAVAILABLE, 'peer'),
  ERR_PEER_UNSUPPORTED: e(501, GRPC.UNIMPLEMENTED, 'peer'),
  ERR_INVALID_PEER_MESSAGE: e(400, GRPC.INVALID_ARGUMENT, 'peer'),
  ERR_MEMBERSHIP_UNAVAILABLE: e(503, GRPC.UNAVAILABLE, 'peer'),
  ERR_NAMING_UNAVAILABLE: e(503, GRPC.UNAVAILABLE, 'peer'),
  // A concurrent change of the same naming keys won: retrying is the right reaction.
  ERR_NAMING_CONFLICT: e(409, GRPC.ABORTED, 'client'),
  // Who is calling on a gRPC API (peering is for node certificates, the client API for users).
  ERR_PEER_NOT_NODE: e(403, GRPC.PERMISSION_DENIED, 'client'),
  ERR_PEER_NO_CERTIFICATE: e(401, GRPC.UNAUTHENTICATED, 'client'),
  ERR_PEER_UNVERIFIED: e(401, GRPC.UNAUTHENTICATED, 'client'),
  ERR_PEER_NO_USER: e(401, GRPC.UNAUTHENTICATED, 'client'),

  // Keygroups and items: the replica store, naming and the client API.
  ERR_KEYGROUP_NOT_FOUND: e(404, GRPC.NOT_FOUND, 'client'),
  ERR_KEYGROUP_EXISTS: e(409, GRPC.ALREADY_EXISTS, 'client'),
  ERR_KEYGROUP_IN_USE: e(409, GRPC.FAILED_PRECONDITION, 'client'),
  ERR_ITEM_NOT_FOUND: e(404, GRPC.NOT_FOUND, 'client'),
  ERR_ITEM_EXISTS: e(409, GRPC.FAILED_PRECONDITION, 'client'),
  ERR_WRONG_MUTABILITY: e(409, GRPC.FAILED_PRECONDITION, 'client'),
  ERR_INVALID_KEY: e(400, GRPC.INVALID_ARGUMENT, 'client'),
  ERR_INVALID_VALUE: e(400, GRPC.INVALID_ARGUMENT, 'client'),
  // A conditional write met versions the caller has not seen: read again, then retry.
  ERR_VERSION_CONFLICT: e(409, GRPC.FAILED_PRECONDITION, 'client'),
  ERR_NODE_NOT_FOUND: e(404, GRPC.NOT_FOUND, 'client'),
  ERR_REPLICA_NOT_FOUND: e(404, GRPC.NOT_FOUND, 'client'),
  ERR_LAST_REPLICA: e(409, GRPC.FAILED_PRECONDITION, 'client'),
  ERR_NOT_A_MEMBER: e(403, GRPC.PERMISSION_DENIED, 'peer'),
  ERR_STILL_A_MEMBER: e(409, GRPC.FAILED_PRECONDITION, 'peer'),
  // The request is fine but must go to a node that is a replica (GetKeygroupInfo names them).
  ERR_NOT_A_REPLICA: e(409, GRPC.FAILED_PRECONDITION, 'client'),
  ERR_TRIGGER_NOT_FOUND: e(404, GRPC.NOT_FOUND, 'client'),
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof ERROR_TABLE;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_TABLE, code);
}
