// Keygroup digests for anti-entropy: items hashed into buckets so that two replicas compare
// O(buckets) hashes when equal and exchange only the items of differing buckets otherwise.
//
// The format is part of the wire contract between Enoki nodes (both sides must compute the same
// hashes), so it is spelled out exactly:
// - bucket of an id: FNV-1a (32-bit) over the id's UTF-16 code units, modulo the bucket count
//   (a power of two, so: & (buckets - 1)).
// - item line: id, then one line per sibling, sorted: 'x' (tombstone) or 'v', then the canonical
//   version text (versionText: `node:counter` pairs in code-unit order), joined with '\n'.
//   Values are left out: a version identifies its value (a write ticks the writer's counter), and
//   two immutable appends that picked the same id can never merge, so hashing their values would
//   only make replicas re-send them forever.
// - item hash: the first 16 bytes of SHA-1 of the UTF-8 item line.
// - bucket hash: '' if empty, else `<item count>.<base64 of the XOR of its item hashes>`. XOR is
//   order-independent (no reliance on the store's iteration order); ids are unique within a
//   keygroup, so no two equal item hashes can cancel out.
import { createHash } from 'node:crypto';
import { versionText } from '../store/version.js';
import type { Version } from '../store/port.js';

export const MIN_BUCKETS = 16;
export const MAX_BUCKETS = 65_536;
/** Items per bucket aimed for: a differing bucket costs about this many items on the wire. */
const TARGET_PER_BUCKET = 16;

/** A power of two between MIN_BUCKETS and MAX_BUCKETS giving ~TARGET_PER_BUCKET items each. */
export function bucketCountFor(items: number): number {
  let buckets = MIN_BUCKETS;
  while (buckets < MAX_BUCKETS && buckets * TARGET_PER_BUCKET < items) buckets *= 2;
  return buckets;
}

export function isValidBucketCount(buckets: unknown): buckets is number {
  return (
    Number.isInteger(buckets) &&
    (buckets as number) >= 1 &&
    (buckets as number) <= MAX_BUCKETS &&
    ((buckets as number) & ((buckets as number) - 1)) === 0
  );
}

export function bucketOf(id: string, buckets: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) & (buckets - 1);
}

export function itemLine(id: string, siblings: ReadonlyArray<{ version: Version; tombstone: boolean }>): string {
  const lines = siblings.map((s) => (s.tombstone ? 'x' : 'v') + versionText(s.version)).sort();
  return [id, ...lines].join('\n');
}

/** Accumulates item lines into bucket hashes. */
export class DigestBuilder {
  private readonly xors: Array<Buffer | undefined>;
  private readonly counts: Uint32Array;
  private total = 0;

  constructor(readonly buckets: number) {
    this.xors = new Array<Buffer | undefined>(buckets);
    this.counts = new Uint32Array(buckets);
  }

  add(id: string, siblings: ReadonlyArray<{ version: Version; tombstone: boolean }>): void {
    const bucket = bucketOf(id, this.buckets);
    const hash = createHash('sha1').update(itemLine(id, siblings)).digest().subarray(0, 16);
    const acc = this.xors[bucket];
    if (acc) for (let i = 0; i < 16; i++) acc[i]! ^= hash[i]!;
    else this.xors[bucket] = Buffer.from(hash);
    this.counts[bucket]!++;
    this.total++;
  }

  /** Number of items added. */
  get items(): number {
    return this.total;
  }

  hashes(): string[] {
    const out = new Array<string>(this.buckets);
    for (let b = 0; b < this.buckets; b++) {
      const acc = this.xors[b];
      out[b] = acc ? `${this.counts[b]}.${acc.toString('base64')}` : '';
    }
    return out;
  }
}

/**
 * Indices where two digests differ, at most `limit` of them. When there are more, the window
 * starts at `offset` (wrapping), so that repeated rounds with varying offsets reach every bucket
 * even if some bucket can never be reconciled.
 */
export function differingBuckets(a: readonly string[], b: readonly string[], limit: number, offset = 0): number[] {
  const all: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) all.push(i);
  if (all.length <= limit) return all;
  const start = Math.floor(offset) % all.length;
  return [...all.slice(start), ...all.slice(0, start)].slice(0, limit).sort((x, y) => x - y);
}
