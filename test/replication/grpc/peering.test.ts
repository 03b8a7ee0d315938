// The peering server end to end over loopback with mutual TLS: a FReD node A (FredPeer, with A's
// node certificate) talks to node B's engine. Replicated puts follow FReD's merge rules,
// tombstones and appends travel, malformed or failing calls get a clear status, and the server
// keeps serving.
import * as grpc from '@grpc/grpc-js';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { ReplicationEngine } from '../../../replication/engine/engine.js';
import type { ReplicationLogger } from '../../../replication/engine/logger.js';
import { MemoryMembershipRegistry } from '../../../replication/engine/membership.js';
import { MemoryOutbox } from '../../../replication/engine/outbox.js';
import type { PeerHandler } from '../../../replication/engine/transport.js';
import { UnaryCaller } from '../../../replication/grpc/call.js';
import { INSECURE_PEER_HEADER, startPeeringServer, type PeeringServer } from '../../../replication/grpc/engine-peering.js';
import { GrpcPeerTransport } from '../../../replication/grpc/grpc-transport.js';
import { peeringService } from '../../../replication/grpc/protos.js';
import { clientCredentials, serverCredentials } from '../../../replication/security/policy.js';
import { MemoryReplicaStore } from '../../../replication/store/memory-store.js';
import { DEFAULT_MAX_VALUE_BYTES } from '../../../replication/store/version.js';
import { makeCerts, type TestCerts } from '../grpc-transport/harness.js';
import { FredPeer, type FredItem } from './fred-peer.js';
import { rejectsMatching, rejectsWith, startServer } from './helpers.js';

interface Ctx {
  certs: TestCerts;
  registry: MemoryMembershipRegistry;
  store: MemoryReplicaStore;
  transport: GrpcPeerTransport;
  engine: ReplicationEngine;
  server: PeeringServer;
  client: FredPeer;
  raw: UnaryCaller;
}

const test = suite<Ctx>('grpc: FReD peering with the engine');
const insecure = () => grpc.credentials.createInsecure();
const members = [{ nodeId: 'A', expiry: 0 }, { nodeId: 'B', expiry: 0 }];

test.before(async (ctx) => {
  ctx.certs = await makeCerts(['A', 'B']);
  // The naming service's records ('log' is immutable). B starts after they were announced, so
  // only A's CreateKeygroup makes it a replica, as when the invitation outruns the watch.
  ctx.registry = new MemoryMembershipRegistry();
  for (const [name, mutable] of [['kv', true], ['log', false], ['big', true]] as const) {
    ctx.registry.createKeygroup(name, { mutable, members });
  }
  await Promise.resolve();
  ctx.store = new MemoryReplicaStore({ nodeId: 'B' });
  await ctx.store.open();
  const outbox = new MemoryOutbox();
  await outbox.open();
  // A is a FReD node B never reaches: B's joins fail and are retried until the engine stops.
  ctx.transport = new GrpcPeerTransport({ resolve: async () => undefined, credentials: insecure() });
  ctx.engine = new ReplicationEngine({ store: ctx.store, outbox, transport: ctx.transport, membership: ctx.registry.view('B'), antiEntropyIntervalMs: 0 });
  await ctx.engine.start();
  ctx.server = await startPeeringServer({
    host: '127.0.0.1', port: 0, credentials: await serverCredentials(ctx.certs.dir, 'B'), handler: ctx.engine, shutdownGraceMs: 200,
  });
  const address = `127.0.0.1:${ctx.server.port}`;
  const credentials = await clientCredentials(ctx.certs.dir, 'A');
  ctx.client = new FredPeer(address, credentials, { deadlineMs: 5_000 });
  // Sends wire messages the typed client would refuse to build.
  ctx.raw = new UnaryCaller(address, credentials);
});

test.after(async (ctx) => {
  ctx.client.close();
  ctx.raw.close();
  await ctx.engine.stop();
  ctx.transport.close();
  await ctx.server.close();
  await ctx.store.close();
  await ctx.certs.remove();
});

const brief = (items: FredItem[]) => items.map((i) => ({ value: i.value, tombstone: i.tombstone, version: i.version }));

test('CreateKeygroup creates the keygroup with the expiry sent and the mutability the naming service records', async ({ client, store }) => {
  await client.createKeygroup({ keygroup: 'kv', expiry: 0 });
  await client.createKeygroup({ keygroup: 'log', expiry: 60 });
  assert.equal(await store.getKeygroup('kv'), { name: 'kv', mutable: true, expiry: 0 });
  assert.equal(await store.getKeygroup('log'), { name: 'log', mutable: false, expiry: 60 });
  // An invitation is idempotent: a repeated one changes nothing.
  await client.createKeygroup({ keygroup: 'kv', expiry: 30 });
  assert.equal(await store.getKeygroup('kv'), { name: 'kv', mutable: true, expiry: 0 });
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

test('a tombstone replaces the item and travels in GetItem and GetAllItems', async ({ client }) => {
  const tombstone = { id: 'x', value: '', tombstone: true, version: { A: 3, C: 1 } };
  await client.putItem({ keygroup: 'kv', id: 'x', value: 'ignored', tombstone: true, version: { A: 3, C: 1 } });
  await client.putItem({ keygroup: 'kv', id: 'y', value: 'live', tombstone: false, version: { A: 1 } });
  // Peers read every sibling, tombstones included (a joining replica must learn of deletions).
  assert.equal(await client.getItem({ keygroup: 'kv', id: 'x' }), [tombstone]);
  assert.equal(await client.getAllItems('kv'), [tombstone, { id: 'y', value: 'live', tombstone: false, version: { A: 1 } }]);
  // An older write arriving after the delete stays deleted.
  await client.putItem({ keygroup: 'kv', id: 'x', value: 'late', tombstone: false, version: { A: 2 } });
  assert.equal(await client.getItem({ keygroup: 'kv', id: 'x' }), [tombstone]);
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

test('malformed input gets INVALID_ARGUMENT naming the problem; keygroups A does not share, PERMISSION_DENIED', async ({ client, raw }) => {
  const put = (request: object) => raw.call(peeringService.PutItem as grpc.MethodDefinition<object, object>, request);
  await rejectsWith(() => client.getItem({ keygroup: 'kv', id: 'a-b' }), grpc.status.INVALID_ARGUMENT, /item id "a-b"/);
  await rejectsWith(() => client.getAllItems('no_such'), grpc.status.INVALID_ARGUMENT, /keygroup name/);
  await rejectsWith(() => client.getAllItems('nosuch'), grpc.status.PERMISSION_DENIED, /A is not a replica of keygroup nosuch/);
  await rejectsWith(
    () => client.putItem({ keygroup: 'nosuch', id: 'a', value: 'v', tombstone: false, version: { A: 1 } }),
    grpc.status.PERMISSION_DENIED,
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

test('a value of the store\'s maximum size replicates and comes back in GetAllItems', async ({ client, registry }) => {
  await client.createKeygroup({ keygroup: 'big', expiry: 0 });
  const value = 'x'.repeat(DEFAULT_MAX_VALUE_BYTES);
  await client.putItem({ keygroup: 'big', id: 'a', value, tombstone: false, version: { A: 1 } });
  const [item] = await client.getAllItems('big');
  assert.is(item?.value.length, value.length);
  // A member's DeleteKeygroup drops the copy even while the naming service still lists B: FReD
  // tells the replica before it updates the naming service (B would rejoin if that never came).
  await client.deleteKeygroup('big');
  await rejectsWith(() => client.getAllItems('big'), grpc.status.NOT_FOUND);
  registry.removeReplica('big', 'B');
});

test('the transport refuses versions it cannot send exactly, before calling', async ({ transport }) => {
  const error = await rejectsMatching(
    () => transport.send('A', { type: 'putItem', keygroup: 'kv', id: 'a', value: 'v', tombstone: false, version: { A: 2 ** 53 } }),
    /invalid version entry "A"/,
  );
  assert.is((error as { code?: string }).code, 'ERR_INVALID_VALUE');
});

test.run();

// ---- handlers that misbehave, and peers that send what Enoki cannot hold ------------------------

const failing = suite('grpc: peering with failing handlers and peers');

failing('a throwing or hanging handler gets a status, is logged, and never stops the server', async () => {
  const reported: unknown[] = [];
  const ignore = () => {};
  const logger: ReplicationLogger = { debug: ignore, info: ignore, warn: ignore, error: (fields) => reported.push(fields) };
  const handler = {
    // Not async: throws synchronously for DeleteKeygroup.
    handle(_from: string, message: { type: string }) {
      if (message.type === 'createKeygroup') return Promise.reject(new Error('disk on fire at /var/secret'));
      if (message.type === 'deleteKeygroup') throw Object.assign(new Error('no'), { code: 'ERR_PERMISSION_DENIED' });
      return new Promise<void>(() => {});
    },
    getItem: async () => [{ id: 'a', value: 'v', tombstone: false, version: { A: 1.5 } }],
    getAllItems: async () => [],
  } as unknown as PeerHandler;
  const server = await startPeeringServer({
    host: '127.0.0.1', port: 0, credentials: grpc.ServerCredentials.createInsecure(), handler, logger, insecureTrustPeerHeader: true,
  });
  const address = `127.0.0.1:${server.port}`;
  const metadata = new grpc.Metadata();
  metadata.set(INSECURE_PEER_HEADER, 'A');
  const client = new FredPeer(address, insecure(), { deadlineMs: 200, metadata });
  try {
    const internal = await rejectsWith(() => client.createKeygroup({ keygroup: 'kv', expiry: 0 }), grpc.status.INTERNAL);
    assert.not.match(internal.details, /secret/);
    await rejectsWith(() => client.deleteKeygroup('kv'), grpc.status.PERMISSION_DENIED, /no/);
    const late = await rejectsWith(
      () => client.putItem({ keygroup: 'kv', id: 'a', value: 'v', tombstone: false, version: { A: 1 } }),
      grpc.status.DEADLINE_EXCEEDED,
    );
    assert.is(late.address, address);
    // A handler returning a version that cannot go on the wire is an internal error too.
    await rejectsWith(() => client.getItem({ keygroup: 'kv', id: 'a' }), grpc.status.INTERNAL);
    assert.is(reported.length, 2);
    assert.equal(await client.getAllItems('kv'), []);
  } finally {
    client.close();
    await server.close();
  }
});

failing('a peer answering with a counter above 2^53-1 is refused, naming the peer', async () => {
  const service: grpc.UntypedServiceImplementation = {
    GetItem: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, { data: [{ id: 'a', val: 'v', version: { A: '9007199254740993' } }] }),
  };
  const server = await startServer([[peeringService, service]]);
  const transport = new GrpcPeerTransport({ resolve: async () => server.address, credentials: insecure() });
  try {
    const error = await rejectsMatching(() => transport.getItem('A', { keygroup: 'kv', id: 'a' }), /9007199254740993 is above/);
    assert.match(error.message, 'peer A, item a');
  } finally {
    transport.close();
    server.stop();
  }
});

failing.run();
