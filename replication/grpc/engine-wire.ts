// Wire forms of the replication engine's peer messages (engine/transport.ts) on FReD's peering
// service and Enoki's AntiEntropy service; the one mapping shared by GrpcPeerTransport (client)
// and the engine peering server, so both sides agree on it by construction.
import type {
  AppendItemMessage,
  CreateKeygroupMessage,
  DigestRequest,
  DigestResponse,
  ItemData,
  PutItemMessage,
  SiblingData,
} from '../engine/transport.js';
import { StoreError } from '../store/port.js';
import { validateAppendId, validateId, validateKeygroupName } from '../store/version.js';
import type {
  WireAppendItemRequest,
  WireCreateKeygroupRequest,
  WireData,
  WireDigestRequest,
  WireDigestResponse,
  WireLong,
  WirePutItemRequest,
  WireSibling,
} from './protos.js';
import { nonNegativeInt64FromWire, versionFromWire, versionToWire } from './wire.js';

/**
 * The metadata header naming the caller, read only by servers made with insecureTrustPeerHeader
 * (engine-peering.ts) and sent only by transports given insecureClaimNodeId.
 */
export const INSECURE_PEER_HEADER = 'x-enoki-insecure-peer-id';

// ---- ages (the Enoki extension field 100, see peering.proto) ------------------------------------

/** Whole milliseconds; an unknown or unusable age is left off, which receivers read as 0. */
export function ageToWire(age: number | undefined): WireLong | undefined {
  if (typeof age !== 'number' || !Number.isFinite(age)) return undefined;
  return Math.max(0, Math.round(age)).toFixed(0);
}

/** undefined when absent (a FReD sender); throws ERR_INVALID_VALUE for a negative or huge age. */
export function ageFromWire(age: unknown): number | undefined {
  return age === undefined || age === null ? undefined : nonNegativeInt64FromWire(age, 'age');
}

// ---- mcc.fred.peering.Node --------------------------------------------------------------------

export function putItemToWire(m: PutItemMessage): WirePutItemRequest {
  const wire: WirePutItemRequest = {
    keygroup: m.keygroup,
    id: m.id,
    val: m.tombstone ? '' : m.value,
    tombstoned: m.tombstone,
    version: versionToWire(m.version),
  };
  const age = ageToWire(m.age);
  if (age !== undefined) wire.age = age;
  return wire;
}

export function appendItemToWire(m: AppendItemMessage): WireAppendItemRequest {
  const wire: WireAppendItemRequest = { keygroup: m.keygroup, id: m.id, data: m.value };
  const age = ageToWire(m.age);
  if (age !== undefined) wire.age = age;
  return wire;
}

export function createKeygroupToWire(m: CreateKeygroupMessage): WireCreateKeygroupRequest {
  if (!Number.isSafeInteger(m.expiry) || m.expiry < 0) {
    throw new StoreError('ERR_INVALID_VALUE', `invalid expiry ${m.expiry}: whole seconds >= 0 expected`);
  }
  return { keygroup: m.keygroup, expiry: m.expiry.toFixed(0) };
}

/** Validates a PutItem from any peer (FReD or Enoki); throws StoreError codes (INVALID_ARGUMENT). */
export function putItemFromWire(req: WirePutItemRequest): PutItemMessage {
  validateKeygroupName(req.keygroup);
  validateId(req.id);
  const version = versionFromWire(req.version);
  const tombstone = req.tombstoned === true;
  // A tombstone's value means nothing; a live value must be non-empty ('' marks deletion).
  if (!tombstone && req.val === '') throw new StoreError('ERR_INVALID_VALUE', 'invalid value: empty but not tombstoned');
  return { type: 'putItem', keygroup: req.keygroup, id: req.id, value: tombstone ? '' : req.val, tombstone, version, age: ageFromWire(req.age) };
}

export function appendItemFromWire(req: WireAppendItemRequest): AppendItemMessage {
  validateKeygroupName(req.keygroup);
  validateAppendId(req.id);
  if (req.data === '') throw new StoreError('ERR_INVALID_VALUE', 'invalid value: must not be empty');
  return { type: 'appendItem', keygroup: req.keygroup, id: req.id, value: req.data, age: ageFromWire(req.age) };
}

export function createKeygroupFromWire(req: WireCreateKeygroupRequest): CreateKeygroupMessage {
  validateKeygroupName(req.keygroup);
  return { type: 'createKeygroup', keygroup: req.keygroup, expiry: nonNegativeInt64FromWire(req.expiry, 'expiry') };
}

/** FReD's Data has no tombstone flag: a tombstone travels as val '' (see peering.proto). */
export function itemDataToWire(item: ItemData): WireData {
  let version;
  try {
    version = versionToWire(item.version);
  } catch (error) {
    // The local handler's fault, not the caller's: an Error without a code is answered INTERNAL.
    throw new Error(`handler returned item ${item.id} with ${(error as Error).message}`);
  }
  const wire: WireData = { id: item.id, val: item.tombstone ? '' : item.value, version };
  const age = ageToWire(item.age);
  if (age !== undefined) wire.age = age;
  return wire;
}

/** `from` names the peer in errors: a bad answer is that peer's fault. */
export function itemDataFromWire(data: WireData, from: string): ItemData {
  try {
    const tombstone = data.val === '';
    return { id: data.id, value: data.val, tombstone, version: versionFromWire(data.version), age: ageFromWire(data.age) };
  } catch (error) {
    throw new StoreError('ERR_INVALID_VALUE', `peer ${from}, item ${data.id}: ${(error as Error).message}`);
  }
}

// ---- enoki.peering.AntiEntropy ------------------------------------------------------------------

export function digestRequestToWire(r: DigestRequest): WireDigestRequest {
  const horizon = ageToWire(r.horizon);
  return { keygroup: r.keygroup, buckets: r.buckets, horizon: horizon ?? '0', hashes: r.hashes, maxBuckets: r.maxBuckets };
}

/** Shape checks only; the engine checks the digest itself (bucket count, hash count). */
export function digestRequestFromWire(req: WireDigestRequest): DigestRequest {
  validateKeygroupName(req.keygroup);
  return {
    keygroup: req.keygroup,
    buckets: req.buckets,
    horizon: nonNegativeInt64FromWire(req.horizon, 'horizon'),
    hashes: req.hashes,
    maxBuckets: req.maxBuckets,
  };
}

export function digestResponseToWire(r: DigestResponse): WireDigestResponse {
  return {
    differing: r.differing,
    items: r.items.map(({ id, siblings }) => ({ id, siblings: siblings.map(siblingToWire) })),
  };
}

export function digestResponseFromWire(res: WireDigestResponse, from: string): DigestResponse {
  return {
    differing: res.differing,
    items: res.items.map(({ id, siblings }) => {
      try {
        return { id, siblings: siblings.map(siblingFromWire) };
      } catch (error) {
        throw new StoreError('ERR_INVALID_VALUE', `peer ${from}, item ${id}: ${(error as Error).message}`);
      }
    }),
  };
}

function siblingToWire(s: SiblingData): WireSibling {
  let version;
  try {
    version = versionToWire(s.version);
  } catch (error) {
    throw new Error(`engine returned a sibling with ${(error as Error).message}`);
  }
  return { value: s.tombstone ? '' : s.value, version, tombstone: s.tombstone, age: ageToWire(s.age) ?? '0' };
}

function siblingFromWire(s: WireSibling): SiblingData {
  const tombstone = s.tombstone === true;
  return { value: tombstone ? '' : s.value, version: versionFromWire(s.version), tombstone, age: ageFromWire(s.age) };
}
