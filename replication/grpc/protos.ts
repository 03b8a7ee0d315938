// Loads FReD's three gRPC protocols (client, peering, trigger) and Enoki's own peering extension
// (anti-entropy) once and exports their service definitions and the wire shapes of the messages
// Enoki handles. The only importer of proto-loader.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * - keepCase: field names stay as in the .proto (nodeId, triggerHost), as FReD's tooling sees them.
 * - longs: String. Versions are uint64 counters and append ids are full uint64s: a JS number would
 *   round them silently above 2^53. Decoded 64-bit fields arrive as decimal strings; wire.ts turns
 *   them into numbers only after checking they are exact. Encoding accepts strings and numbers.
 * - enums: Number. UserRole travels as its number (ReadKeygroup = 0 ...), unknown values included.
 * - defaults: true. proto3 cannot tell an absent field from its default, so decoded messages always
 *   have every field ('' / false / '0' / {} / []) and validators see one shape.
 * - oneofs: true. None of FReD's messages has a oneof today; kept for forward compatibility.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: Number,
  defaults: true,
  oneofs: true,
};

const PROTO_FILES = ['client.proto', 'peering.proto', 'trigger.proto', 'enoki-peering.proto'] as const;

/**
 * The directory holding the .proto files, seen from a module of replication/grpc/. tsc does not
 * copy .proto files, so from dist/replication/grpc/ they are found back in the source tree.
 */
export function findProtoDir(moduleUrl: string | URL): string {
  const candidates = [
    new URL('../proto/', moduleUrl), // source layout: replication/grpc/ → replication/proto/
    new URL('../../../replication/proto/', moduleUrl), // dist layout: dist/replication/grpc/ → replication/proto/
  ];
  for (const candidate of candidates) {
    const dir = fileURLToPath(candidate);
    if (PROTO_FILES.every((file) => existsSync(dir + file))) return dir;
  }
  throw new Error(`FReD .proto files not found near ${String(moduleUrl)}; looked in ${candidates.map(String).join(', ')}`);
}

export const PROTO_DIR = findProtoDir(import.meta.url);

const definitions = protoLoader.loadSync([...PROTO_FILES], { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] });

function service(name: string): grpc.ServiceDefinition {
  const definition = definitions[name];
  if (!definition || 'format' in definition) throw new Error(`service ${name} missing from the FReD protos`);
  // proto-loader's and grpc-js's ServiceDefinition types describe the same object.
  return definition as unknown as grpc.ServiceDefinition;
}

/** `mcc.fred.client.Client`: what FReD clients call. */
export const clientService = service('mcc.fred.client.Client');
/** `mcc.fred.peering.Node`: node-to-node replication. */
export const peeringService = service('mcc.fred.peering.Node');
/** `mcc.fred.trigger.TriggerNode`: served by trigger endpoints, called by nodes. */
export const triggerService = service('mcc.fred.trigger.TriggerNode');
/** `enoki.peering.AntiEntropy`: digest exchange between Enoki nodes (FReD nodes lack it). */
export const antiEntropyService = service('enoki.peering.AntiEntropy');

/** FReD's roles per (user, keygroup); numbers as on the wire. */
export const UserRole = {
  ReadKeygroup: 0,
  WriteKeygroup: 1,
  ConfigureReplica: 2,
  ConfigureTrigger: 3,
  ConfigureKeygroups: 4,
} as const;
export type UserRole = (typeof UserRole)[keyof typeof UserRole];

// ---- wire shapes (as decoded with LOADER_OPTIONS; 64-bit integers are decimal strings) ----------

/** A uint64/int64 field: decoded as a decimal string; encoding also takes a number. */
export type WireLong = string;
/** map<string, uint64>: node id → counter. */
export type WireVersion = Record<string, WireLong>;

export type WireEmpty = Record<string, never>;

export interface WireCreateKeygroupRequest {
  keygroup: string;
  expiry: WireLong;
}

export interface WireKeygroupRequest {
  keygroup: string;
}

export interface WirePutItemRequest {
  keygroup: string;
  id: string;
  val: string;
  tombstoned: boolean;
  version: WireVersion;
  /** Enoki extension (ms); absent when a FReD node sent the message. */
  age?: WireLong;
}

export interface WireAppendItemRequest {
  keygroup: string;
  id: string;
  data: string;
  /** Enoki extension (ms); absent when a FReD node sent the message. */
  age?: WireLong;
}

export interface WireItemRequest {
  keygroup: string;
  id: string;
}

/** peering Data: one sibling; val '' marks a tombstone. */
export interface WireData {
  id: string;
  val: string;
  version: WireVersion;
  /** Enoki extension (ms); absent when a FReD node sent the message. */
  age?: WireLong;
}

/** GetItemResponse and GetAllItemsResponse. */
export interface WireDataResponse {
  data: WireData[];
}

export interface WirePutItemTriggerRequest {
  keygroup: string;
  id: string;
  val: string;
}

export interface WireDeleteItemTriggerRequest {
  keygroup: string;
  id: string;
}

// enoki.peering (enoki-peering.proto)

export interface WireDigestRequest {
  keygroup: string;
  buckets: number;
  horizon: WireLong;
  hashes: string[];
  maxBuckets: number;
}

export interface WireSibling {
  value: string;
  version: WireVersion;
  tombstone: boolean;
  age: WireLong;
}

export interface WireDigestResponse {
  differing: number[];
  items: Array<{ id: string; siblings: WireSibling[] }>;
}
