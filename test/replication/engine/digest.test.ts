// Digest format: stable bucket assignment, order independence, one changed item → one bucket.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import type { Version } from '../../../replication/store/port.js';
import { DigestBuilder, bucketCountFor, bucketOf, differingBuckets, itemLine } from '../../../replication/engine/digest.js';

interface Item {
  id: string;
  siblings: Array<{ version: Version; tombstone: boolean }>;
}

const item = (n: number): Item => ({ id: `k${n}`, siblings: [{ version: { A: n + 1 }, tombstone: n % 5 === 0 }] });

test('bucket assignment is FNV-1a of the id and fixed across versions of the code', () => {
  // Pinned values: changing them breaks anti-entropy between nodes running different versions.
  assert.is(bucketOf('a', 65_536), 0xe40c292c & 0xffff);
  assert.is(bucketOf('k1', 16), bucketOf('k1', 65_536) & 15);
  assert.equal(itemLine('x', [{ version: { B: 2, A: 1 }, tombstone: false }, { version: { C: 1 }, tombstone: true }]), 'x\nvA:1,B:2\nxC:1');
});

test('bucket counts are powers of two sized to the item count', () => {
  assert.is(bucketCountFor(0), 16);
  assert.is(bucketCountFor(256), 16);
  assert.is(bucketCountFor(257), 32);
  assert.is(bucketCountFor(10_000_000), 65_536);
});

test('equal sets hash equally in any order; one changed item changes exactly one bucket', () => {
  const build = (items: Item[]) => {
    const b = new DigestBuilder(64);
    for (const i of items) b.add(i.id, i.siblings);
    return b.hashes();
  };
  const items = Array.from({ length: 300 }, (_, n) => item(n));
  const forward = build(items);
  assert.equal(build([...items].reverse()), forward);
  const changed = items.map((i) => (i.id === 'k42' ? { ...i, siblings: [...i.siblings, { version: { B: 1 }, tombstone: false }] } : i));
  const diff = differingBuckets(forward, build(changed), 100);
  assert.equal(diff, [bucketOf('k42', 64)]);
  assert.equal(differingBuckets(forward, build(items.slice(1)), 100), [bucketOf('k0', 64)]);
  assert.ok(!forward.includes(''), 'no bucket of 64 is empty with 300 items');
  assert.equal(new DigestBuilder(4).hashes(), ['', '', '', '']);
});

test('a limited answer rotates through the differing buckets', () => {
  const a = Array.from({ length: 8 }, (_, i) => `h${i}`);
  const b = a.map((h, i) => (i % 2 ? h : 'other'));
  assert.equal(differingBuckets(a, b, 10), [0, 2, 4, 6]);
  assert.equal(differingBuckets(a, b, 2, 0), [0, 2]);
  assert.equal(differingBuckets(a, b, 2, 3), [0, 6]);
});

test.run();
