// FReD's naming-service key schema (pkg/etcdnase of the reference): key builders, parser, validation.
import { NamingError, ROLE_METHODS, type Method, type Role } from './port.js';

/** Every FReD key starts with one of these; nothing else in etcd is ours. */
export const FRED_PREFIXES = ['failnode|', 'kg|', 'node|', 'user|'] as const;

/**
 * One etcd range covering all FReD prefixes ('failnode|' sorts first, 'user|' last), so a single
 * range read and a single watch see every FReD key in one revision order. Keys of other
 * applications inside the range are filtered out by parseKey.
 */
export const FRED_RANGE = { start: 'failnode|', end: 'user}' } as const; // '}' = '|' + 1

export const KG_CREATED = 'created';
export const KG_DELETED = 'deleted';
export const MEMBER_OK = 'ok';
export const MEMBER_REMOVED = 'removed';
export const PERMISSION_OK = 'ok';
export const MISSED_MARK = '1';

export const keys = {
  nodeAddress: (node: string) => `node|${node}|address`,
  nodeExtAddress: (node: string) => `node|${node}|extaddress`,
  kgStatus: (kg: string) => `kg|${kg}|status`,
  kgMutable: (kg: string) => `kg|${kg}|mutable`,
  kgExpiry: (kg: string, node: string) => `kg|${kg}|expiry|node|${node}`,
  kgMember: (kg: string, node: string) => `kg|${kg}|node|${node}`,
  kgMemberPrefix: (kg: string) => `kg|${kg}|node|`,
  permission: (user: string, kg: string, method: string) => `user|${user}|kg|${kg}|method|${method}`,
  missed: (node: string, kg: string, id: string) => `failnode|${node}|kg|${kg}|${id}`,
};

export type ParsedKey =
  | { kind: 'nodeAddress'; node: string }
  | { kind: 'nodeExtAddress'; node: string }
  | { kind: 'kgStatus'; keygroup: string }
  | { kind: 'kgMutable'; keygroup: string }
  | { kind: 'kgExpiry'; keygroup: string; node: string }
  | { kind: 'kgMember'; keygroup: string; node: string }
  | { kind: 'permission'; user: string; keygroup: string; method: string }
  | { kind: 'missed'; node: string; keygroup: string; id: string };

/** Parses a FReD key; undefined for anything else (other applications' keys, unknown forms). */
export function parseKey(key: string): ParsedKey | undefined {
  const p = key.split('|');
  if (p.some((part) => part === '')) return undefined;
  switch (p[0]) {
    case 'node':
      if (p.length !== 3) return undefined;
      if (p[2] === 'address') return { kind: 'nodeAddress', node: p[1]! };
      if (p[2] === 'extaddress') return { kind: 'nodeExtAddress', node: p[1]! };
      return undefined;
    case 'kg':
      if (p.length === 3 && p[2] === 'status') return { kind: 'kgStatus', keygroup: p[1]! };
      if (p.length === 3 && p[2] === 'mutable') return { kind: 'kgMutable', keygroup: p[1]! };
      if (p.length === 4 && p[2] === 'node') return { kind: 'kgMember', keygroup: p[1]!, node: p[3]! };
      if (p.length === 5 && p[2] === 'expiry' && p[3] === 'node') return { kind: 'kgExpiry', keygroup: p[1]!, node: p[4]! };
      return undefined;
    case 'user':
      if (p.length === 6 && p[2] === 'kg' && p[4] === 'method') {
        return { kind: 'permission', user: p[1]!, keygroup: p[3]!, method: p[5]! };
      }
      return undefined;
    case 'failnode':
      if (p.length === 5 && p[2] === 'kg') return { kind: 'missed', node: p[1]!, keygroup: p[3]!, id: p[4]! };
      return undefined;
    default:
      return undefined;
  }
}

const KEYGROUP_OR_ID = /^[a-zA-Z0-9]+$/;
const MAX_NAME = 512;

/** Keygroup names and item ids: FReD's `^[a-zA-Z0-9]+$`. */
export function checkKeygroup(name: string, what = 'keygroup name'): void {
  if (typeof name !== 'string' || !KEYGROUP_OR_ID.test(name) || name.length > MAX_NAME) {
    throw new NamingError('ERR_INVALID_NAME', `invalid ${what} ${JSON.stringify(name)}: must match ^[a-zA-Z0-9]+$`);
  }
}

/**
 * Node ids and user names (certificate CNs) are free-form in FReD, but '|' would make keys
 * ambiguous and control characters have no business in a key.
 */
export function checkSegment(value: string, what: string): void {
  // eslint-disable-next-line no-control-regex
  if (typeof value !== 'string' || value === '' || value.length > MAX_NAME || /[|\x00-\x1f]/.test(value)) {
    throw new NamingError('ERR_INVALID_NAME', `invalid ${what} ${JSON.stringify(value)}: non-empty, no '|' or control characters`);
  }
}

export function checkExpiry(expiry: number): void {
  if (!Number.isSafeInteger(expiry) || expiry < 0) {
    throw new NamingError('ERR_INVALID_ARGUMENT', `invalid expiry ${expiry}: seconds as a non-negative integer`);
  }
}

export function checkAddress(address: string, what: string): void {
  if (typeof address !== 'string' || address === '' || /\s/.test(address)) {
    throw new NamingError('ERR_INVALID_ARGUMENT', `invalid ${what} ${JSON.stringify(address)}: expected host:port`);
  }
}

const ALL_METHODS = new Set<string>(Object.values(ROLE_METHODS).flat());

export function checkMethod(method: string): asserts method is Method {
  if (!ALL_METHODS.has(method)) throw new NamingError('ERR_INVALID_ARGUMENT', `unknown method ${JSON.stringify(method)}`);
}

/** FReD writes expiry with strconv.Itoa; anything unparsable reads as 0 (never expire). */
export function parseExpiry(value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value)) return 0;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : 0;
}

export function checkRole(role: string): asserts role is Role {
  if (!Object.hasOwn(ROLE_METHODS, role)) throw new NamingError('ERR_INVALID_ARGUMENT', `unknown role ${JSON.stringify(role)}`);
}
