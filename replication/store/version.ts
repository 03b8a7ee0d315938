// Version-vector rules and input validation shared by every ReplicaStore (pure, no I/O).
import { StoreError, type Sibling, type Version } from './port.js';

export type Ordering = 'equal' | 'before' | 'after' | 'concurrent';

/**
 * Where `a` stands relative to `b`. FReD's rule: a node id present in only one clock makes that
 * clock bigger even when its counter is 0, so {A:1} is before {A:1,B:0}.
 */
export function compare(a: Version, b: Version): Ordering {
  let aBigger = false;
  let bBigger = false;
  // Object.hasOwn, not `in`: node ids such as 'constructor' must not hit Object.prototype.
  for (const node of Object.keys(a)) {
    if (!Object.hasOwn(b, node) || a[node]! > b[node]!) aBigger = true;
    else if (a[node]! < b[node]!) bBigger = true;
  }
  for (const node of Object.keys(b)) {
    if (!Object.hasOwn(a, node)) bBigger = true;
  }
  if (aBigger && bBigger) return 'concurrent';
  if (aBigger) return 'after';
  if (bBigger) return 'before';
  return 'equal';
}

/** The least version that every argument is equal to or before (pointwise maximum). */
export function merge(...versions: Version[]): Version {
  const merged = new Map<string, number>();
  for (const version of versions) {
    for (const [node, counter] of Object.entries(version)) {
      const known = merged.get(node);
      if (known === undefined || counter > known) merged.set(node, counter);
    }
  }
  // fromEntries defines own properties, so even a node id '__proto__' stays plain data.
  return Object.fromEntries(merged);
}

/** Whether `version` is equal to or before one of `given` (FReD's coverage test). */
export function isCovered(version: Version, given: readonly Version[]): boolean {
  return given.some((g) => {
    const ordering = compare(version, g);
    return ordering === 'equal' || ordering === 'before';
  });
}

/** A copy of `version` with one more tick for `nodeId`. */
export function tick(version: Version, nodeId: string): Version {
  return { ...version, [nodeId]: (Object.hasOwn(version, nodeId) ? version[nodeId]! : 0) + 1 };
}

/** Canonical text of a version: node ids in code-unit order, e.g. `a:1,b:2` ('' when empty). */
export function versionText(version: Version): string {
  return Object.keys(version)
    .sort()
    .map((node) => `${node}:${version[node]}`)
    .join(',');
}

export function totalTicks(version: Version): number {
  let total = 0;
  for (const counter of Object.values(version)) total += counter;
  return total;
}

type Ranked = Pick<Sibling, 'value' | 'version'>;

/**
 * Sort order for siblings, winner first. Every replica must pick the same winner from the same
 * set, so only replicated fields count: greater total ticks, then greater canonical version
 * text, then greater value.
 */
export function compareSiblings(a: Ranked, b: Ranked): number {
  const ticks = totalTicks(b.version) - totalTicks(a.version);
  if (ticks !== 0) return ticks;
  const text = codeUnitOrder(versionText(b.version), versionText(a.version));
  if (text !== 0) return text;
  return codeUnitOrder(b.value, a.value);
}

/** The sibling every replica shows when a single value is wanted; undefined for none. */
export function pickWinner<T extends Ranked>(siblings: readonly T[]): T | undefined {
  let winner: T | undefined;
  for (const sibling of siblings) {
    if (winner === undefined || compareSiblings(sibling, winner) < 0) winner = sibling;
  }
  return winner;
}

function codeUnitOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- validation -------------------------------------------------------------------------------

export const MAX_NAME_LENGTH = 512;
export const DEFAULT_MAX_VALUE_BYTES = 4 * 1024 * 1024;

const NAME = /^[a-zA-Z0-9]+$/;
// Append ids are FReD's uint64 written in canonical decimal, so '7' and '007' cannot both exist.
const DECIMAL = /^(0|[1-9][0-9]*)$/;
const MAX_UINT64 = 2n ** 64n - 1n;
// LevelDB stores UTF-8; a lone surrogate would come back as U+FFFD and replicas would diverge.
const LONE_SURROGATE = /\p{Surrogate}/u;

export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= MAX_NAME_LENGTH && NAME.test(name);
}

export function validateKeygroupName(name: unknown): asserts name is string {
  checkName('keygroup name', name);
}

export function validateId(id: unknown): asserts id is string {
  checkName('item id', id);
}

/** Ids of immutable keygroups: a uint64 in canonical decimal. */
export function validateAppendId(id: unknown): asserts id is string {
  checkName('item id', id);
  if (!DECIMAL.test(id) || BigInt(id) > MAX_UINT64) {
    throw new StoreError(
      'ERR_INVALID_KEY',
      `invalid append id ${quote(id)}: must be an unsigned 64-bit integer in decimal without leading zeros`,
    );
  }
}

export function validateValue(value: unknown, maxBytes: number): asserts value is string {
  if (typeof value !== 'string') {
    throw new StoreError('ERR_INVALID_VALUE', `invalid value: expected a string, got ${typeof value}`);
  }
  if (value === '') {
    throw new StoreError('ERR_INVALID_VALUE', 'invalid value: must not be empty (empty marks a deletion)');
  }
  // UTF-8 needs at most 3 bytes per UTF-16 code unit, so short values skip the byte count.
  if (value.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > maxBytes) {
      throw new StoreError('ERR_INVALID_VALUE', `invalid value: ${bytes} bytes of UTF-8, at most ${maxBytes} allowed`);
    }
  }
  if (LONE_SURROGATE.test(value)) {
    throw new StoreError('ERR_INVALID_VALUE', 'invalid value: contains a lone UTF-16 surrogate');
  }
}

/**
 * Node ids: non-empty, at most 512 characters, without ':' or ',' so that the canonical version
 * text (and with it the choice of winner) is unambiguous.
 */
export function isValidNodeId(nodeId: unknown): nodeId is string {
  return typeof nodeId === 'string' && nodeId !== '' && nodeId.length <= MAX_NAME_LENGTH && !/[:,]/.test(nodeId);
}

/** Versions arriving from peers: valid node ids, counters that are safe non-negative integers. */
export function validateVersion(version: unknown): asserts version is Version {
  if (typeof version !== 'object' || version === null || Array.isArray(version)) {
    throw new StoreError('ERR_INVALID_VALUE', 'invalid version: expected an object of node id → counter');
  }
  for (const [node, counter] of Object.entries(version)) {
    if (!isValidNodeId(node) || !Number.isSafeInteger(counter) || (counter as number) < 0) {
      throw new StoreError('ERR_INVALID_VALUE', `invalid version entry ${quote(node)}: ${String(counter)}`);
    }
  }
}

function checkName(what: string, name: unknown): asserts name is string {
  if (typeof name !== 'string') {
    throw new StoreError('ERR_INVALID_KEY', `invalid ${what}: expected a string, got ${typeof name}`);
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw new StoreError(
      'ERR_INVALID_KEY',
      `invalid ${what} ${quote(name)}: ${name.length} characters, at most ${MAX_NAME_LENGTH} allowed`,
    );
  }
  if (!NAME.test(name)) {
    throw new StoreError('ERR_INVALID_KEY', `invalid ${what} ${quote(name)}: must match ^[a-zA-Z0-9]+$`);
  }
}

/** JSON-quoted so empty and odd ids are visible; long ones shortened to keep messages readable. */
function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}
