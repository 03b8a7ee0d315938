// Conversions between FReD's 64-bit wire integers (decimal strings, see protos.ts) and Enoki's
// numbers. Every conversion is exact or throws: a rounded counter would corrupt version order.
import { StoreError, type Version } from '../store/port.js';
import { validateVersion } from '../store/version.js';
import type { WireLong, WireVersion } from './protos.js';

const DIGITS = /^[0-9]+$/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A uint64 from the wire as a number; throws ERR_INVALID_VALUE if not exactly representable. */
export function uint64FromWire(value: unknown, what: string): number {
  let digits: string;
  if (typeof value === 'string' && DIGITS.test(value)) digits = value;
  else if (typeof value === 'number' && Number.isInteger(value) && value >= 0) digits = value.toFixed(0);
  else throw new StoreError('ERR_INVALID_VALUE', `invalid ${what}: expected an unsigned integer, got ${JSON.stringify(value)}`);
  if (BigInt(digits) > MAX_SAFE) {
    throw new StoreError(
      'ERR_INVALID_VALUE',
      `invalid ${what}: ${digits} is above ${Number.MAX_SAFE_INTEGER} (2^53-1), the largest counter Enoki keeps exactly`,
    );
  }
  return Number(digits);
}

/** An int64 from the wire that must not be negative (expiry seconds). */
export function nonNegativeInt64FromWire(value: unknown, what: string): number {
  if ((typeof value === 'string' && value.startsWith('-')) || (typeof value === 'number' && value < 0)) {
    throw new StoreError('ERR_INVALID_VALUE', `invalid ${what}: ${String(value)} is negative`);
  }
  return uint64FromWire(value, what);
}

/** A version map from the wire, checked like every version arriving from a peer. */
export function versionFromWire(map: unknown, what = 'version'): Version {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new StoreError('ERR_INVALID_VALUE', `invalid ${what}: expected a map of node id → counter`);
  }
  const entries: Array<[string, number]> = [];
  for (const [node, counter] of Object.entries(map)) {
    entries.push([node, uint64FromWire(counter, `${what} counter of node ${JSON.stringify(node)}`)]);
  }
  // fromEntries defines own properties, so a node id like '__proto__' stays plain data.
  const version: Version = Object.fromEntries(entries);
  validateVersion(version);
  return version;
}

/** A version as map<string, uint64>; counters go out as decimal strings so nothing is rounded. */
export function versionToWire(version: Version): WireVersion {
  validateVersion(version);
  return Object.fromEntries(Object.entries(version).map(([node, counter]): [string, WireLong] => [node, counter.toFixed(0)]));
}
