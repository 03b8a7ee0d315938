// How LevelReplicaStore lays keygroups and items out in LevelDB: the keys and the encoding of
// an item's siblings.
import type { KeygroupInfo, Sibling } from './port.js';

// Key layout. Names and ids are alphanumeric and '!' (0x21) sorts below all of them, so the items
// of one keygroup are exactly the keys in [i!<kg>!, i!<kg>") and never mix with keygroup 'kgX'.
//   k!<keygroup>        → {"mutable":bool,"expiry":seconds}
//   i!<keygroup>!<id>   → JSON [[value, version, tombstone 0|1, storedAt], ...]
// deleteKeygroup removes k!<keygroup> first, then the items; items without a k! entry are garbage
// from a delete cut short by a crash, invisible to readers, and cleared by createKeygroup.
export const metaKey = (keygroup: string) => `k!${keygroup}`;
export const itemKey = (keygroup: string, id: string) => `i!${keygroup}!${id}`;
export const itemRange = (keygroup: string) => ({ gte: `i!${keygroup}!`, lt: `i!${keygroup}"` });
export const META_RANGE = { gte: 'k!', lt: 'k"' };
export const encodeMeta = (info: KeygroupInfo) => JSON.stringify({ mutable: info.mutable, expiry: info.expiry });

type EncodedSibling = [value: string, version: Record<string, number>, tombstone: 0 | 1, storedAt: number];

export function encode(siblings: readonly Sibling[]): string {
  return JSON.stringify(siblings.map((s): EncodedSibling => [s.value, s.version, s.tombstone ? 1 : 0, s.storedAt]));
}

export function decode(text: string | undefined): Sibling[] {
  if (text === undefined) return [];
  return (JSON.parse(text) as EncodedSibling[]).map(([value, version, tombstone, storedAt]) => ({
    value,
    version,
    tombstone: tombstone === 1,
    storedAt,
  }));
}
