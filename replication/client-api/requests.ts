// Validation of client-API requests: each wire message (as decoded with protos.ts's options) becomes
// a typed request or an INVALID_ARGUMENT error naming the bad field; handlers see only valid input.
import { ROLES, type Role } from '../naming/port.js';
import type { WireLong, WireVersion } from '../grpc/protos.js';
import { nonNegativeInt64FromWire, versionFromWire } from '../grpc/wire.js';
import type { Version } from '../store/port.js';
import { MAX_NAME_LENGTH, validateAppendId, validateId, validateKeygroupName, validateValue } from '../store/version.js';
import { ClientApiError } from './errors.js';

// ---- wire shapes (mcc.fred.client; 64-bit integers arrive as decimal strings) ----------------

interface WireVersions {
  versions: Array<{ version: WireVersion }>;
}
export interface WireCreateKeygroup { keygroup: string; mutable: boolean; expiry: WireLong }
export interface WireKeygroupOnly { keygroup: string }
export interface WireRead extends WireVersions { keygroup: string; id: string }
export interface WireRange { keygroup: string; id: string; count: WireLong }
export interface WireUpdate extends WireVersions { keygroup: string; id: string; data: string }
export interface WireAppend { keygroup: string; id: WireLong; data: string }
export interface WireDelete extends WireVersions { keygroup: string; id: string }
export interface WireAddReplica { keygroup: string; nodeId: string; expiry: WireLong }
export interface WireRemoveReplica { keygroup: string; nodeId: string }
export interface WireGetReplica { nodeId: string }
export interface WireAddTrigger { keygroup: string; triggerId: string; triggerHost: string }
export interface WireRemoveTrigger { keygroup: string; triggerId: string }
export interface WireUser { user: string; keygroup: string; role: number }

// ---- typed requests ----------------------------------------------------------------------------

export interface ItemRequest { keygroup: string; id: string }
export interface VersionedRequest extends ItemRequest { versions: Version[] }
export interface RangeRequest extends ItemRequest { count: number }
export interface WriteRequest extends VersionedRequest { value: string }
export interface AppendRequest extends ItemRequest { value: string }
export interface ReplicaRequest { keygroup: string; node: string; expiry: number }
export interface TriggerRequest { keygroup: string; triggerId: string; host: string }
export interface UserRequest { user: string; keygroup: string; role: Role }

/** More given versions than any sane client sends; bounds the cost of the coverage check. */
export const MAX_GIVEN_VERSIONS = 1024;

const invalid = (message: string) => new ClientApiError('ERR_INVALID_ARGUMENT', message);

export function parseKeygroup(req: WireKeygroupOnly): { keygroup: string } {
  validateKeygroupName(req.keygroup);
  return { keygroup: req.keygroup };
}

export function parseCreateKeygroup(req: WireCreateKeygroup): { keygroup: string; mutable: boolean; expiry: number } {
  validateKeygroupName(req.keygroup);
  if (typeof req.mutable !== 'boolean') throw invalid('invalid mutable: expected a boolean');
  return { keygroup: req.keygroup, mutable: req.mutable, expiry: nonNegativeInt64FromWire(req.expiry, 'expiry') };
}

export function parseRead(req: WireRead): VersionedRequest {
  return { ...parseItem(req), versions: parseVersions(req.versions) };
}

export function parseRange(req: WireRange): RangeRequest {
  return { ...parseItem(req), count: parseCount(req.count) };
}

export function parseUpdate(req: WireUpdate, maxValueBytes: number): WriteRequest {
  const item = parseItem(req);
  validateValue(req.data, maxValueBytes);
  return { ...item, value: req.data, versions: parseVersions(req.versions) };
}

export function parseAppend(req: WireAppend, maxValueBytes: number): AppendRequest {
  validateKeygroupName(req.keygroup);
  // A uint64 on the wire: a decimal string (or a number from a lenient encoder), stored as decimal text.
  const id = typeof req.id === 'number' && Number.isSafeInteger(req.id) ? String(req.id) : req.id;
  validateAppendId(id);
  validateValue(req.data, maxValueBytes);
  return { keygroup: req.keygroup, id, value: req.data };
}

export function parseDelete(req: WireDelete): VersionedRequest {
  return { ...parseItem(req), versions: parseVersions(req.versions) };
}

export function parseAddReplica(req: WireAddReplica): ReplicaRequest {
  validateKeygroupName(req.keygroup);
  return { keygroup: req.keygroup, node: parseNodeId(req.nodeId), expiry: nonNegativeInt64FromWire(req.expiry, 'expiry') };
}

export function parseRemoveReplica(req: WireRemoveReplica): { keygroup: string; node: string } {
  validateKeygroupName(req.keygroup);
  return { keygroup: req.keygroup, node: parseNodeId(req.nodeId) };
}

export function parseGetReplica(req: WireGetReplica): { node: string } {
  return { node: parseNodeId(req.nodeId) };
}

export function parseAddTrigger(req: WireAddTrigger): TriggerRequest {
  validateKeygroupName(req.keygroup);
  return { keygroup: req.keygroup, triggerId: parseTriggerId(req.triggerId), host: parseHost(req.triggerHost) };
}

export function parseRemoveTrigger(req: WireRemoveTrigger): { keygroup: string; triggerId: string } {
  validateKeygroupName(req.keygroup);
  return { keygroup: req.keygroup, triggerId: parseTriggerId(req.triggerId) };
}

export function parseUser(req: WireUser): UserRequest {
  validateKeygroupName(req.keygroup);
  const user = parseSegment(req.user, 'user');
  const role = req.role;
  // enums: Number keeps unknown enum values as their numbers, so 7 arrives as 7, not as an error.
  if (typeof role !== 'number' || !Number.isInteger(role) || role < 0 || role >= ROLES.length) {
    throw invalid(`invalid role ${JSON.stringify(role)}: expected 0 (ReadKeygroup) to ${ROLES.length - 1} (${ROLES[ROLES.length - 1]})`);
  }
  return { user, keygroup: req.keygroup, role: ROLES[role]! };
}

// ---- fields ------------------------------------------------------------------------------------

function parseItem(req: { keygroup: string; id: string }): ItemRequest {
  validateKeygroupName(req.keygroup);
  validateId(req.id);
  return { keygroup: req.keygroup, id: req.id };
}

function parseVersions(versions: unknown): Version[] {
  if (!Array.isArray(versions)) throw invalid('invalid versions: expected a list of versions');
  if (versions.length > MAX_GIVEN_VERSIONS) {
    throw invalid(`invalid versions: ${versions.length} given, at most ${MAX_GIVEN_VERSIONS} allowed`);
  }
  return versions.map((v: { version?: unknown } | null, i) => versionFromWire(v?.version ?? {}, `versions[${i}]`));
}

const DIGITS = /^[0-9]+$/;

/** At least 1 (FReD rejects 0); anything above 2^53-1 means "all" and is clamped, not refused. */
function parseCount(count: unknown): number {
  const text = typeof count === 'number' && Number.isInteger(count) ? count.toFixed(0) : count;
  if (typeof text !== 'string' || !DIGITS.test(text)) throw invalid(`invalid count ${JSON.stringify(count)}: expected an unsigned integer`);
  const value = BigInt(text);
  if (value < 1n) throw invalid('invalid count 0: must be at least 1');
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

/** Node ids must fit both version vectors (no ':' or ',') and naming keys (no '|'). */
function parseNodeId(node: unknown): string {
  const id = parseSegment(node, 'node id');
  if (/[:,]/.test(id)) throw invalid(`invalid node id ${JSON.stringify(id)}: must not contain ':' or ','`);
  return id;
}

/** Users and node ids become segments of naming keys: non-empty, no '|', no control characters. */
function parseSegment(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw invalid(`invalid ${what}: must not be empty`);
  if (value.length > MAX_NAME_LENGTH) throw invalid(`invalid ${what}: at most ${MAX_NAME_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[|\x00-\x1f\x7f]/.test(value)) throw invalid(`invalid ${what} ${JSON.stringify(value)}: no '|' or control characters`);
  return value;
}

function parseTriggerId(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw invalid('invalid trigger id: must not be empty');
  if (value.length > MAX_NAME_LENGTH) throw invalid(`invalid trigger id: at most ${MAX_NAME_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) throw invalid(`invalid trigger id ${JSON.stringify(value)}: no control characters`);
  return value;
}

/** The trigger endpoint is dialled later; a host that cannot be dialled is refused now. */
function parseHost(value: unknown): string {
  const match = typeof value === 'string' && value.length <= MAX_NAME_LENGTH ? /^(\S+):(\d{1,5})$/.exec(value) : null;
  const port = match ? Number(match[2]) : 0;
  if (!match || port < 1 || port > 65535) {
    throw invalid(`invalid trigger host ${JSON.stringify(value)}: expected host:port`);
  }
  return value as string;
}
