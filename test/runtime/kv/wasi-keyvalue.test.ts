// wasi:keyvalue@0.2.0-draft as a guest sees it through the host side (WasiKeyvalue over an
// invocation's InvocationKv): any key and any bytes round-trip; items a FReD client or an
// enoki:faas guest wrote are the same items; writes are committed with the invocation; increment
// is atomic and stored as decimal text; list-keys pages with a cursor; errors are the WIT's.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { MemoryReplicaStore } from '../../../replication/store/memory-store.js';
import type { KeygroupInfo } from '../../../replication/store/port.js';
import { InvocationKv, type InvocationKvLimits } from '../../../runtime/kv/invocation-kv.js';
import { StoreKvBackend } from '../../../runtime/kv/kv-backend.js';
import { WasiKeyvalue } from '../../../runtime/kv/wasi-keyvalue.js';
import { bucketOf, decodeKey, decodeValue, encodeKey, encodeValue, WASI_KEYVALUE_OPS as OPS } from '../../../runtime/kv/wasi-keyvalue-mapping.js';

const MUTABLE: KeygroupInfo = { name: 'kv', mutable: true, expiry: 0 };
const IMMUTABLE: KeygroupInfo = { name: 'log', mutable: false, expiry: 0 };
const LIMITS: InvocationKvLimits = { maxValueBytes: 4096, maxWriteBytes: 1 << 20, maxScanCount: 8 };
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: unknown) => new TextDecoder().decode(b as Uint8Array);

async function setup() {
  const store = new MemoryReplicaStore({ nodeId: 'n1' });
  await store.open();
  await store.createKeygroup(MUTABLE);
  await store.createKeygroup(IMMUTABLE);
  const backend = new StoreKvBackend(store);
  const invocation = (info = MUTABLE) => {
    const kv = new InvocationKv(backend, info, LIMITS);
    return { kv, wasi: new WasiKeyvalue(kv, LIMITS.maxScanCount) };
  };
  return { store, invocation };
}

async function ok(wasi: WasiKeyvalue, op: string, ...args: unknown[]): Promise<unknown> {
  const reply = await wasi.handle({ op, args });
  if (!reply.ok) assert.unreachable(`${op} failed: ${JSON.stringify(reply.error)}`);
  return (reply as { value: unknown }).value;
}

async function fails(wasi: WasiKeyvalue, op: string, ...args: unknown[]): Promise<{ tag: string; val?: string }> {
  const reply = await wasi.handle({ op, args });
  if (reply.ok) assert.unreachable(`${op} succeeded`);
  return (reply as { error: { tag: string; val?: string } }).error;
}

test('"" and "default" name the function\'s bucket; nothing else does', () => {
  assert.is(bucketOf(''), bucketOf('default'));
  assert.ok(bucketOf('') !== undefined);
  assert.is(bucketOf('other'), undefined);
});

test('keys: FReD ids stay themselves, every other string maps one to one into ids', () => {
  assert.is(encodeKey('counter42'), 'counter42');
  const keys = ['', 'user:1', 'a b', '0x41', '0X41', 'ünïcode/✓', 'x'.repeat(255), 'with-dash'];
  const ids = keys.map(encodeKey);
  assert.is(new Set(ids).size, keys.length);
  for (const [i, id] of ids.entries()) {
    assert.match(id, /^[a-zA-Z0-9]{1,512}$/);
    assert.is(decodeKey(id), keys[i]);
  }
  assert.throws(() => encodeKey('-'.repeat(256)), /too long/);
});

test('values: text stays text, bytes that are not round-trip through base64', () => {
  assert.is(encodeValue(bytes('hello')), 'hello');
  const samples = [bytes('hello'), new Uint8Array(0), Uint8Array.of(0, 1, 2, 255), Uint8Array.of(0xef, 0xbb, 0xbf, 0x41), bytes('\u0000starts with NUL'), Uint8Array.of(0xc3)];
  for (const sample of samples) {
    const stored = encodeValue(sample);
    assert.ok(stored.length > 0, 'FReD values are never empty');
    assert.equal([...decodeValue(stored)], [...sample]);
  }
});

test('set, get, exists, delete; writes are seen by the invocation and committed with it', async () => {
  const { store, invocation } = await setup();
  const { kv, wasi } = invocation();
  assert.is(await ok(wasi, OPS.get, 'user:1'), undefined);
  await ok(wasi, OPS.set, 'user:1', bytes('Ada'));
  await ok(wasi, OPS.set, 'bin', Uint8Array.of(0, 159, 146, 150));
  assert.is(text(await ok(wasi, OPS.get, 'user:1')), 'Ada');
  assert.is(await ok(wasi, OPS.exists, 'user:1'), true);
  assert.equal(await store.read('kv', encodeKey('user:1')), [], 'nothing is stored before the commit');
  await kv.commit();
  assert.equal((await store.read('kv', encodeKey('user:1'))).map((s) => s.value), ['Ada']);
  const next = invocation().wasi;
  assert.equal([...((await ok(next, OPS.get, 'bin')) as Uint8Array)], [0, 159, 146, 150]);
  await ok(next, OPS.delete, 'user:1');
  await ok(next, OPS.delete, 'never-there');
  assert.is(await ok(next, OPS.exists, 'user:1'), false);
});

test('items of FReD clients and enoki:faas guests are the same items', async () => {
  const { store, invocation } = await setup();
  await store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'greeting', value: 'hi' }]);
  const { kv, wasi } = invocation();
  assert.is(text(await ok(wasi, OPS.get, 'greeting')), 'hi');
  await ok(wasi, OPS.set, 'plain', bytes('visible'));
  assert.is(await kv.get('plain'), 'visible');
});

test('increment: atomic, applied at once, decimal text shared with enoki:faas/atomics', async () => {
  const { store, invocation } = await setup();
  const { kv, wasi } = invocation();
  assert.is(await ok(wasi, OPS.increment, 'hits', 1n), 1n);
  assert.is(await ok(wasi, OPS.increment, 'hits', 41n), 42n);
  assert.equal((await store.read('kv', 'hits')).map((s) => s.value), ['42'], 'stored without a commit');
  assert.is(await kv.increment('hits', 1n), 43n);
  assert.is(text(await ok(wasi, OPS.get, 'hits')), '43');
  await ok(wasi, OPS.set, 'word', bytes('abc'));
  assert.match((await fails(wasi, OPS.increment, 'word', 1n)).val ?? '', 'not a decimal integer');
  assert.match((await fails(wasi, OPS.increment, 'hits', 2n ** 63n)).val ?? '', 'nothing was written');
  await kv.increment('neg', -5n);
  assert.match((await fails(wasi, OPS.increment, 'neg', 1n)).val ?? '', 'u64');
});

test('batch: get-many in order with none for missing keys, set-many, delete-many', async () => {
  const { invocation } = await setup();
  const { wasi } = invocation();
  await ok(wasi, OPS.setMany, [['a', bytes('1')], ['b/2', bytes('2')]]);
  const got = (await ok(wasi, OPS.getMany, ['b/2', 'missing', 'a'])) as ([string, Uint8Array] | undefined)[];
  assert.equal(got.map((e) => (e ? [e[0], text(e[1])] : null)), [['b/2', '2'], null, ['a', '1']]);
  await ok(wasi, OPS.deleteMany, ['a', 'missing']);
  assert.is(await ok(wasi, OPS.exists, 'a'), false);
});

test('list-keys pages with a cursor, within an invocation and across invocations', async () => {
  const { invocation } = await setup();
  const first = invocation();
  const keys = Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, '0')}`).concat(['a key', 'b:key']);
  for (const key of keys) await ok(first.wasi, OPS.set, key, bytes(key));
  await first.kv.commit();
  const collect = async (wasi: WasiKeyvalue) => {
    const seen: string[] = [];
    let cursor: bigint | undefined;
    let pages = 0;
    do {
      const page = (await ok(wasi, OPS.listKeys, cursor)) as { keys: string[]; cursor?: bigint };
      seen.push(...page.keys);
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined);
    return { seen, pages };
  };
  const { seen, pages } = await collect(invocation().wasi);
  assert.equal([...seen].sort(), [...keys].sort());
  assert.ok(pages > 1, 'more keys than a page');
  // A cursor from an earlier invocation finds its place again.
  const page = (await ok(invocation().wasi, OPS.listKeys, 7n)) as { keys: string[] };
  assert.equal(page.keys, seen.slice(7, 7 + page.keys.length));
});

test('errors are the WIT variant: access-denied on an append-only keygroup, other with the reason', async () => {
  const { invocation } = await setup();
  const { wasi } = invocation(IMMUTABLE);
  assert.equal(await fails(wasi, OPS.set, 'x', bytes('v')), { tag: 'access-denied' });
  const tooBig = await fails(invocation().wasi, OPS.set, 'big', new Uint8Array(5000).fill(65));
  assert.is(tooBig.tag, 'other');
  assert.match(tooBig.val ?? '', 'invalid-value');
  const badKey = await fails(invocation().wasi, OPS.get, '-'.repeat(300));
  assert.is(badKey.tag, 'other');
  assert.match(badKey.val ?? '', 'invalid key');
});

test.run();
