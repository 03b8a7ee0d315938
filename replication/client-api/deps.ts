// What FReD's client API needs from the rest of the node, as narrow injected roles.
import type * as grpc from '@grpc/grpc-js';
import type { NamingService } from '../naming/port.js';
import type { AppliedWrite, ReplicaStore } from '../store/port.js';
import type { TriggerStore } from './triggers.js';

/**
 * The replication engine as the client API sees it. The composition root adapts the engine to it;
 * every method may assume the naming service already records the change it reports.
 */
export interface ClientReplication {
  /**
   * Sends writes this node just committed to the other replicas. Unreachable peers must not make
   * it reject (they are repaired later); a rejection is logged and the client still gets its
   * answer, since the write is already durable here.
   */
  writeLocal(applied: AppliedWrite[]): Promise<void>;
  /**
   * This node was made a replica of `keygroup` (or its expiry changed): hold a local copy with
   * that expiry and fill it from another member. Resolves once the copy exists.
   */
  joinKeygroup(keygroup: string, expiry: number): Promise<void>;
  /** This node is no longer a replica, or the keygroup was deleted: drop the local copy. */
  leaveKeygroup(keygroup: string): Promise<void>;
  /**
   * Optional: tells another node it became a replica (FReD's peering CreateKeygroup), so that
   * nodes which do not watch the naming service (real FReD nodes) learn it. Best effort.
   */
  inviteReplica?(keygroup: string, node: string, expiry: number): Promise<void>;
  /** Optional: tells another node to drop its copy (FReD's peering DeleteKeygroup). Best effort. */
  dropReplica?(keygroup: string, node: string): Promise<void>;
}

/** A put or delete reported to a trigger endpoint (FReD's TriggerNode PutItemTrigger/DeleteItemTrigger). */
export type TriggerEvent =
  | { kind: 'put'; keygroup: string; id: string; value: string }
  | { kind: 'delete'; keygroup: string; id: string };

/** Calls one trigger endpoint; the composition root wires GrpcTriggerClient (one per host). */
export type CallTrigger = (host: string, event: TriggerEvent) => Promise<void>;

/**
 * The authenticated user (client certificate CN) of a call, or undefined when there is none.
 * The composition root wires the certificate policy; tests read a metadata header.
 */
export type UserOf = (call: grpc.ServerUnaryCall<unknown, unknown>) => string | undefined;

/** The subset of pino's Logger used here; a pino logger fits. */
export interface ClientApiLogger {
  debug(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

export interface ClientApiDeps {
  /** This node's id: the replica created by CreateKeygroup and the `self` of AddReplica/RemoveReplica. */
  nodeId: string;
  /** The local replica store; its nodeId must equal `nodeId`. */
  store: ReplicaStore;
  /** Cluster-wide keygroups, replicas, node addresses and permissions. */
  naming: NamingService;
  replication: ClientReplication;
  /** Triggers registered on this node (FReD keeps them per receiving node). */
  triggers: TriggerStore;
  callTrigger: CallTrigger;
  userOf: UserOf;
  /** Largest value accepted in UTF-8 bytes; must not exceed the store's limit. Default 4 MiB. */
  maxValueBytes?: number;
  /**
   * storedAt of conditional writes as reported to replication (mergeRemote does not return the
   * store's): pass the store's clock. Date.now by default.
   */
  clock?: () => number;
  logger?: ClientApiLogger;
}

const ignore = () => {};

/** Used when no logger is injected: library code never writes to the console. */
export const silentLogger: ClientApiLogger = { debug: ignore, warn: ignore, error: ignore };
