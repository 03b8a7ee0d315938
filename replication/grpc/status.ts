// gRPC statuses of the node's errors, from the gRPC column of the one error table
// (replication/support/error-table.ts), for every gRPC server of the node (peering, client API).
// Statuses come from an error's `code` property, never from its message.
import * as grpc from '@grpc/grpc-js';
import { ERROR_TABLE, GRPC, type ErrorCode } from '../support/error-table.js';
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

// Every code the replication layer produces must be in the node's one error table; its gRPC
// column is what the FReD APIs answer with.
const STATUS = Object.fromEntries(Object.entries(ERROR_TABLE).map(([code, entry]) => [code, entry.grpc as grpc.status])) as Record<
  ErrorCode,
  grpc.status
>;
/** Compile-time check: every replication code has a row in the table. */
const _covered: Record<ReplicationErrorCode, unknown> = STATUS;
void _covered;

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

// The table spells gRPC statuses as numbers to stay free of gRPC: they must be grpc-js's.
for (const [name, value] of Object.entries(GRPC)) {
  if ((grpc.status as unknown as Record<string, number>)[name] !== value) throw new Error(`error table: gRPC status ${name} is not ${value}`);
}
