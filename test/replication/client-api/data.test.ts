// Item RPCs over gRPC: versions and siblings, conditional Update/Delete, Read's version filter,
// Scan/Keys order, immutable keygroups, and replication of every committed write.
import * as grpc from '@grpc/grpc-js';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { createKeygroup, rejects, startNode, v, type TestNode, type WireItem } from './harness.js';

const test = suite<{ node: TestNode }>('client API: items');

test.before.each(async (ctx) => {
  ctx.node = await startNode();
  await createKeygroup(ctx.node, 'kv');
  await createKeygroup(ctx.node, 'log', { mutable: false });
});
test.after.each(async ({ node }) => node.close());

const read = async (node: TestNode, id: string, versions: object[] = []) =>
  (await node.call<{ data: WireItem[] }>('Read', { keygroup: 'kv', id, versions })).data;
const update = (node: TestNode, id: string, data: string, versions: object[] = []) =>
  node.call<{ version: { version: Record<string, string> } }>('Update', { keygroup: 'kv', id, data, versions });

test('Update ticks this node over every known version; Read returns the value with its version', async ({ node }) => {
  assert.equal(await update(node, 'x', 'one'), { version: v({ A: 1 }) });
  assert.equal(await update(node, 'x', 'two'), { version: v({ A: 2 }) });
  assert.equal(await read(node, 'x'), [{ id: 'x', val: 'two', version: v({ A: 2 }) }]);
});

test('every committed write is handed to replication as the store applied it', async ({ node }) => {
  await update(node, 'x', 'one');
  await node.call('Delete', { keygroup: 'kv', id: 'x', versions: [] });
  await node.call('Append', { keygroup: 'log', id: '3', data: 'entry' });
  const sent = node.replication.writes.map((batch) => batch.map((w) => [w.keygroup, w.id, w.sibling.value, w.sibling.tombstone, w.sibling.version]));
  assert.equal(sent, [[['kv', 'x', 'one', false, { A: 1 }]], [['kv', 'x', '', true, { A: 2 }]], [['log', '3', 'entry', false, {}]]]);
});

test('a write replication cannot even queue is not acknowledged: the client gets an error, the write stays committed here', async ({ node }) => {
  node.replication.failWrites = true;
  // Never an acknowledgment for a write that is neither replicated nor queued for the replicas.
  await rejects(update(node, 'x', 'kept'), grpc.status.INTERNAL);
  // Committed here all the same (anti-entropy spreads it), and the failure is logged.
  assert.is((await read(node, 'x'))[0]!.val, 'kept');
  assert.ok(node.logs.some((l) => l.level === 'error' && l.fields.keygroup === 'kv'));
});

test('Read of an absent item or keygroup is NOT_FOUND', async ({ node }) => {
  await rejects(read(node, 'nope'), grpc.status.NOT_FOUND, /item nope not found in keygroup kv/);
  await rejects(node.call('Read', { keygroup: 'other', id: 'x' }), grpc.status.NOT_FOUND, /keygroup other does not exist/);
});

test('a concurrent remote write shows up as a sibling; an unconditional Update supersedes both', async ({ node }) => {
  await update(node, 'x', 'local');
  await node.store.mergeRemote('kv', 'x', { value: 'remote', version: { B: 1 }, tombstone: false });
  const items = await read(node, 'x');
  assert.equal(items.map((i) => [i.val, i.version]).sort(), [['local', v({ A: 1 })], ['remote', v({ B: 1 })]]);
  assert.equal(await update(node, 'x', 'merged'), { version: v({ A: 2, B: 1 }) });
  assert.equal(await read(node, 'x'), [{ id: 'x', val: 'merged', version: v({ A: 2, B: 1 }) }]);
});

test('Read with versions returns only stored versions equal to or older than a given one', async ({ node }) => {
  await update(node, 'x', 'local');
  await node.store.mergeRemote('kv', 'x', { value: 'remote', version: { B: 1 }, tombstone: false });
  assert.equal((await read(node, 'x', [v({ B: 1 })])).map((i) => i.val), ['remote']);
  assert.equal((await read(node, 'x', [v({ A: 5 })])).map((i) => i.val), ['local']);
  assert.equal((await read(node, 'x', [v({ A: 1, B: 1 })])).length, 2);
  await rejects(read(node, 'x', [v({ C: 1 })]), grpc.status.NOT_FOUND, /older than a given one/);
});

test('conditional Update with a stale version is FAILED_PRECONDITION and changes nothing', async ({ node }) => {
  await update(node, 'x', 'one');
  await update(node, 'x', 'two');
  await rejects(update(node, 'x', 'lost', [v({ A: 1 })]), grpc.status.FAILED_PRECONDITION, /version \{A:2\}.*read it again/);
  assert.equal(await read(node, 'x'), [{ id: 'x', val: 'two', version: v({ A: 2 }) }]);
  assert.is(node.replication.writes.length, 2);
});

test('conditional Update must cover every sibling; then its version is merge(given) + own tick', async ({ node }) => {
  await update(node, 'x', 'local');
  await node.store.mergeRemote('kv', 'x', { value: 'remote', version: { B: 1 }, tombstone: false });
  await rejects(update(node, 'x', 'half', [v({ A: 1 })]), grpc.status.FAILED_PRECONDITION, /\{B:1\}/);
  // A given version newer than anything stored here (seen on another replica) still counts.
  assert.equal(await update(node, 'x', 'both', [v({ A: 1 }), v({ B: 1, C: 3 })]), { version: v({ A: 2, B: 1, C: 3 }) });
  assert.equal(await read(node, 'x'), [{ id: 'x', val: 'both', version: v({ A: 2, B: 1, C: 3 }) }]);
  const sent = node.replication.writes.at(-1)!.map((w) => [w.sibling.value, w.sibling.version]);
  assert.equal(sent, [['both', { A: 2, B: 1, C: 3 }]]);
});

test('conditional Update of an absent item creates it; against an item deleted since, it is a conflict', async ({ node }) => {
  assert.equal(await update(node, 'y', 'fresh', [v({})]), { version: v({ A: 1 }) });
  await node.call('Delete', { keygroup: 'kv', id: 'y', versions: [] }); // tombstone {A:2}
  await rejects(update(node, 'y', 'stale', [v({ A: 1 })]), grpc.status.FAILED_PRECONDITION, /deleted/);
  await rejects(read(node, 'y'), grpc.status.NOT_FOUND);
});

test('Delete writes a tombstone as a new version; the item must exist', async ({ node }) => {
  await update(node, 'x', 'one');
  assert.equal(await node.call('Delete', { keygroup: 'kv', id: 'x', versions: [] }), { version: v({ A: 2 }) });
  await rejects(read(node, 'x'), grpc.status.NOT_FOUND);
  await rejects(node.call('Delete', { keygroup: 'kv', id: 'x', versions: [] }), grpc.status.NOT_FOUND, /does not exist/);
  assert.equal(await update(node, 'x', 'again'), { version: v({ A: 3 }) });
});

test('conditional Delete follows the Update rules', async ({ node }) => {
  await update(node, 'x', 'one');
  await update(node, 'x', 'two');
  await rejects(node.call('Delete', { keygroup: 'kv', id: 'x', versions: [v({ A: 1 })] }), grpc.status.FAILED_PRECONDITION);
  assert.is((await read(node, 'x'))[0]!.val, 'two');
  assert.equal(await node.call('Delete', { keygroup: 'kv', id: 'x', versions: [v({ A: 2, B: 4 })] }), { version: v({ A: 3, B: 4 }) });
  await rejects(read(node, 'x'), grpc.status.NOT_FOUND);
  await rejects(node.call('Delete', { keygroup: 'kv', id: 'x', versions: [v({ A: 3, B: 4 })] }), grpc.status.NOT_FOUND);
});

test('Scan starts at an existing id and returns up to count items in id order', async ({ node }) => {
  for (const id of ['d', 'b', 'a', 'c', 'B']) await update(node, id, `val-${id}`);
  const scan = async (id: string, count: number | string) =>
    (await node.call<{ data: WireItem[] }>('Scan', { keygroup: 'kv', id, count })).data.map((i) => [i.id, i.val]);
  assert.equal(await scan('b', 2), [['b', 'val-b'], ['c', 'val-c']]);
  // Plain code-unit order: upper case before lower case.
  assert.equal((await scan('B', '18446744073709551615')).map(([id]) => id), ['B', 'a', 'b', 'c', 'd']);
  await rejects(scan('bb', 2), grpc.status.NOT_FOUND, /starts at item bb/);
  await rejects(scan('b', 0), grpc.status.INVALID_ARGUMENT, /at least 1/);
});

test('Scan and Keys list each live sibling of an item; Keys carries versions, no values', async ({ node }) => {
  await update(node, 'a', 'one');
  await update(node, 'b', 'local');
  await node.store.mergeRemote('kv', 'b', { value: 'remote', version: { B: 1 }, tombstone: false });
  await update(node, 'c', 'gone');
  await node.call('Delete', { keygroup: 'kv', id: 'c', versions: [] });
  const keys = await node.call<{ keys: Array<{ id: string; version: unknown }> }>('Keys', { keygroup: 'kv', id: 'a', count: 10 });
  assert.equal(
    keys.keys.map((k) => [k.id, k.version]).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
    [['a', v({ A: 1 })], ['b', v({ A: 1 })], ['b', v({ B: 1 })]],
  );
  const scan = await node.call<{ data: WireItem[] }>('Scan', { keygroup: 'kv', id: 'a', count: 2 });
  assert.equal(scan.data.map((i) => i.val).sort(), ['local', 'one', 'remote']);
});

test('Append stores the client-chosen id as decimal text with an empty version; ids are never reused', async ({ node }) => {
  assert.equal(await node.call('Append', { keygroup: 'log', id: 7, data: 'first' }), { id: '7' });
  assert.equal(await node.call('Append', { keygroup: 'log', id: '18446744073709551615', data: 'last' }), { id: '18446744073709551615' });
  const got = await node.call<{ data: WireItem[] }>('Read', { keygroup: 'log', id: '7', versions: [] });
  assert.equal(got.data, [{ id: '7', val: 'first', version: { version: {} } }]);
  await rejects(node.call('Append', { keygroup: 'log', id: 7, data: 'again' }), grpc.status.FAILED_PRECONDITION, /already exists/);
  const scan = await node.call<{ data: WireItem[] }>('Scan', { keygroup: 'log', id: '18446744073709551615', count: 5 });
  assert.equal(scan.data.map((i) => i.id), ['18446744073709551615', '7']);
});

test('immutable keygroups refuse Update and Delete; mutable ones refuse Append', async ({ node }) => {
  await node.call('Append', { keygroup: 'log', id: 1, data: 'entry' });
  await rejects(node.call('Update', { keygroup: 'log', id: '1', data: 'x', versions: [] }), grpc.status.FAILED_PRECONDITION, /immutable/);
  await rejects(node.call('Update', { keygroup: 'log', id: '1', data: 'x', versions: [v({})] }), grpc.status.FAILED_PRECONDITION, /immutable/);
  await rejects(node.call('Delete', { keygroup: 'log', id: '1', versions: [] }), grpc.status.FAILED_PRECONDITION, /immutable/);
  await rejects(node.call('Append', { keygroup: 'kv', id: 1, data: 'x' }), grpc.status.FAILED_PRECONDITION, /mutable: Append/);
  const got = await node.call<{ data: WireItem[] }>('Read', { keygroup: 'log', id: '1', versions: [] });
  assert.equal(got.data.map((i) => i.val), ['entry']);
});

test.run();
