// The peering service end to end over loopback: a GrpcPeerClient talks to a StorePeeringHandler over
// a MemoryReplicaStore. Replicated puts follow FReD's merge rules, tombstones and appends travel,
// malformed or failing calls get a clear status, and the server keeps serving.
import * as grpc from '@grpc/grpc-js';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { UnaryCaller } from '../../../replication/grpc/call.js';
import { GrpcPeerClient } from '../../../replication/grpc/peering-client.js';
import type { PeerItem, PeeringHandler } from '../../../replication/grpc/peering-handler.js';
import { createPeeringService, PEERING_SERVER_OPTIONS, peeringService } from '../../../replication/grpc/peering-server.js';
import { StorePeeringHandler } from '../../../replication/grpc/store-peering-handler.js';
import { MemoryReplicaStore } from '../../../replication/store/memory-store.js';
import { DEFAULT_MAX_VALUE_BYTES } from '../../../replication/store/version.js';
import { rejectsMatching, rejectsWith, startServer, type TestServer } from './helpers.js';

interface Ctx {
  store: MemoryReplicaStore;
  server: TestServer;
  client: GrpcPeerClient;
  raw: UnaryCaller;
  internalErrors: unknown[];
}

const test = suite<Ctx>('grpc: peering over a store');
const insecure = () => grpc.credentials.createInsecure();

test.before(async (ctx) => {
  ctx.store = new MemoryReplicaStore({ nodeId: 'B' });
  await ctx.store.open();
  ctx.internalErrors = [];
  // 'log' is immutable, as the naming service would say.
  const handler = new StorePeeringHandler(ctx.store, { mutabilityOf: (kg) => kg !== 'log' });
  const service = createPeeringService(handler, { onInternalError: (error) => ctx.internalErrors.push(error) });
  ctx.server = await startServer([[peeringService, service]], undefined, PEERING_SERVER_OPTIONS);
  ctx.client = new GrpcPeerClient(ctx.server.address, insecure());
  // Sends wire messages the typed client would refuse to build.
  ctx.raw = new UnaryCaller(ctx.server.address, insecure());
});

test.after(async (ctx) => {
  ctx.client.close();
  ctx.raw.close();
  ctx.server.stop();
  await ctx.store.close();
});

const brief = (items: PeerItem[]) => items.map((i) => ({ value: i.value, tombstone: i.tombstone, version: i.version }));

test('CreateKeygroup creates the keygroup with the expiry and the mutability from the callback', async ({ client, store }) => {
  await client.createKeygroup({ keygroup: 'kv', expiry: 0 });
  await client.createKeygroup({ keygroup: 'log', expiry: 60 });
  assert.equal(await store.getKeygroup('kv'), { name: 'kv', mutable: true, expiry: 0 });
  assert.equal(await store.getKeygroup('log'), { name: 'log', mutable: false, expiry: 60 });
  await rejectsWith(() => client.createKeygroup({ keygroup: 'kv', expiry: 0 }), grpc.status.ALREADY_EXISTS, /already exists/);
});

test('PutItem: newer replaces, older and equal are ignored, concurrent becomes a sibling', async ({ client }) => {
  const put = (value: string, version: Record<string, number>) =>
    client.putItem({ keygroup: 'kv', id: 'x', value, tombstone: false, version });
  const read = async () => brief(await client.getItem({ keygroup: 'kv', id: 'x' }));

  await put('v1', { A: 1 });
  await put('v2', { A: 2 });
  assert.equal(await read(), [{ value: 'v2', tombstone: false, version: { A: 2 } }]);
  await put('old', { A: 1 });
  await put('same', { A: 2 });
  assert.equal(await read(), [{ value: 'v2', tombstone: false, version: { A: 2 } }]);
  await put('c', { C: 1 });
  assert.equal((await read()).map((s) => s.value).sort(), ['c', 'v2']);
  await put('merged', { A: 2, C: 1 });
  assert.equal(await read(), [{ value: 'merged', tombstone: false, version: { A: 2, C: 1 } }]);
});

test('a tombstone hides the item from GetItem and travels in GetAllItems', async ({ client }) => {
  await client.putItem({ keygroup: 'kv', id: 'x', value: 'ignored', tombstone: true, version: { A: 3, C: 1 } });
  await client.putItem({ keygroup: 'kv', id: 'y', value: 'live', tombstone: false, version: { A: 1 } });
  assert.equal(await client.getItem({ keygroup: 'kv', id: 'x' }), []);
  assert.equal(await client.getAllItems('kv'), [
    { id: 'x', value: '', tombstone: true, version: { A: 3, C: 1 } },
    { id: 'y', value: 'live', tombstone: false, version: { A: 1 } },
  ]);
  // An older write arriving after the delete stays deleted.
  await client.putItem({ keygroup: 'kv', id: 'x', value: 'late', tombstone: false, version: { A: 2 } });
  assert.equal(await client.getItem({ keygroup: 'kv', id: 'x' }), []);
});

test('AppendItem stores an unversioned item once, in immutable keygroups only', async ({ client }) => {
  await client.appendItem({ keygroup: 'log', id: '7', value: 'first' });
  await client.appendItem({ keygroup: 'log', id: '7', value: 'replayed' });
  assert.equal(await client.getAllItems('log'), [{ id: '7', value: 'first', tombstone: false, version: {} }]);
  await rejectsWith(() => client.appendItem({ keygroup: 'kv', id: '8', value: 'v' }), grpc.status.FAILED_PRECONDITION, /mutable/);
  await rejectsWith(
    () => client.putItem({ keygroup: 'log', id: '9', value: 'v', tombstone: false, version: { A: 1 } }),
    grpc.status.FAILED_PRECONDITION,
    /immutable/,
  );
  await rejectsWith(() => client.appendItem({ keygroup: 'log', id: '07', value: 'v' }), grpc.status.INVALID_ARGUMENT, /append id/);
});

test('malformed input gets INVALID_ARGUMENT naming the problem, unknown keygroups NOT_FOUND', async ({ client, raw }) => {
  const put = (request: object) => raw.call(peeringService.PutItem as grpc.MethodDefinition<object, object>, request);
  await rejectsWith(() => client.getItem({ keygroup: 'kv', id: 'a-b' }), grpc.status.INVALID_ARGUMENT, /item id "a-b"/);
  await rejectsWith(() => client.getAllItems('no_such'), grpc.status.INVALID_ARGUMENT, /keygroup name/);
  await rejectsWith(() => client.getAllItems('nosuch'), grpc.status.NOT_FOUND, /nosuch does not exist/);
  await rejectsWith(
    () => client.putItem({ keygroup: 'nosuch', id: 'a', value: 'v', tombstone: false, version: { A: 1 } }),
    grpc.status.NOT_FOUND,
  );
  await rejectsWith(
    () => put({ keygroup: 'kv', id: 'a', val: 'v', version: { A: '18446744073709551615' } }),
    grpc.status.INVALID_ARGUMENT,
    /18446744073709551615 is above 9007199254740991/,
  );
  await rejectsWith(() => put({ keygroup: 'kv', id: 'a', val: 'v', version: { 'A:1': 1 } }), grpc.status.INVALID_ARGUMENT, /version entry/);
  await rejectsWith(() => put({ keygroup: 'kv', id: 'a', val: '', version: { A: 1 } }), grpc.status.INVALID_ARGUMENT, /empty/);
  await rejectsWith(
    () => raw.call(peeringService.CreateKeygroup as grpc.MethodDefinition<object, object>, { keygroup: 'neg', expiry: -5 }),
    grpc.status.INVALID_ARGUMENT,
    /negative/,
  );
  // Still serving, and nothing malformed was stored.
  assert.equal(await client.getItem({ keygroup: 'kv', id: 'a' }), []);
  assert.equal(await client.getItem({ keygroup: 'kv', id: 'y' }).then(brief), [{ value: 'live', tombstone: false, version: { A: 1 } }]);
});

test('a value of the store\'s maximum size replicates and comes back in GetAllItems', async ({ client }) => {
  await client.createKeygroup({ keygroup: 'big', expiry: 0 });
  const value = 'x'.repeat(DEFAULT_MAX_VALUE_BYTES);
  await client.putItem({ keygroup: 'big', id: 'a', value, tombstone: false, version: { A: 1 } });
  const [item] = await client.getAllItems('big');
  assert.is(item?.value.length, value.length);
  await client.deleteKeygroup('big');
  await rejectsWith(() => client.getAllItems('big'), grpc.status.NOT_FOUND);
});

test('the client refuses versions it cannot send exactly, before calling', async ({ client }) => {
  const error = await rejectsMatching(
    () => client.putItem({ keygroup: 'kv', id: 'a', value: 'v', tombstone: false, version: { A: 2 ** 53 } }),
    /invalid version entry "A"/,
  );
  assert.is((error as { code?: string }).code, 'ERR_INVALID_VALUE');
});

test.run();

// ---- handlers that misbehave, and peers that send what Enoki cannot hold ------------------------

const failing = suite('grpc: peering with failing handlers and peers');

failing('a throwing or hanging handler gets a status, is reported, and never stops the server', async () => {
  const reported: unknown[] = [];
  const handler = {
    async createKeygroup() {
      throw new Error('disk on fire at /var/secret');
    },
    // Not async: throws synchronously.
    deleteKeygroup() {
      throw Object.assign(new Error('no'), { code: 'ERR_PERMISSION_DENIED' });
    },
    putItem: () => new Promise<void>(() => {}),
    appendItem: async () => {},
    getItem: async () => [{ id: 'a', value: 'v', tombstone: false, version: { A: 1.5 } }],
    getAllItems: async () => [],
  } as unknown as PeeringHandler;
  const server = await startServer([[peeringService, createPeeringService(handler, { onInternalError: (e) => reported.push(e) })]]);
  const client = new GrpcPeerClient(server.address, insecure(), { deadlineMs: 200 });
  try {
    const internal = await rejectsWith(() => client.createKeygroup({ keygroup: 'kv', expiry: 0 }), grpc.status.INTERNAL);
    assert.not.match(internal.details, /secret/);
    await rejectsWith(() => client.deleteKeygroup('kv'), grpc.status.PERMISSION_DENIED, /no/);
    const late = await rejectsWith(
      () => client.putItem({ keygroup: 'kv', id: 'a', value: 'v', tombstone: false, version: {} }),
      grpc.status.DEADLINE_EXCEEDED,
    );
    assert.is(late.address, server.address);
    // A handler returning a version that cannot go on the wire is an internal error too.
    await rejectsWith(() => client.getItem({ keygroup: 'kv', id: 'a' }), grpc.status.INTERNAL);
    assert.is(reported.length, 2);
    assert.equal(await client.getAllItems('kv'), []);
  } finally {
    client.close();
    server.stop();
  }
});

failing('a peer answering with a counter above 2^53-1 is refused, naming the peer', async () => {
  const service: grpc.UntypedServiceImplementation = {
    GetItem: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, { data: [{ id: 'a', val: 'v', version: { A: '9007199254740993' } }] }),
  };
  const server = await startServer([[peeringService, service]]);
  const client = new GrpcPeerClient(server.address, insecure());
  try {
    const error = await rejectsMatching(() => client.getItem({ keygroup: 'kv', id: 'a' }), /9007199254740993 is above/);
    assert.match(error.message, `GetItem from ${server.address}`);
  } finally {
    client.close();
    server.stop();
  }
});

failing('an unreachable peer fails with UNAVAILABLE and its address', async () => {
  // Bind and stop a server so the port is known to be closed.
  const server = await startServer([]);
  server.stop();
  const client = new GrpcPeerClient(server.address, insecure(), { deadlineMs: 2000 });
  try {
    const error = await rejectsWith(() => client.getAllItems('kv'), grpc.status.UNAVAILABLE);
    assert.match(error.message, server.address);
  } finally {
    client.close();
  }
});

failing.run();
