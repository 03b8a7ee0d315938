// GrpcPeerTransport against the engine peering server with a recording handler: every message
// arrives as sent (ages included, absent from FReD senders), and failures map to the error types
// the engine acts on.
import * as grpc from '@grpc/grpc-js';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { isUnavailable } from '../../../replication/engine/delivery.js';
import { ReplicationEngine } from '../../../replication/engine/engine.js';
import { MemoryMembershipRegistry } from '../../../replication/engine/membership.js';
import { MemoryOutbox } from '../../../replication/engine/outbox.js';
import {
  PeerUnavailableError,
  PeerUnsupportedError as EnginePeerUnsupportedError,
  type DigestRequest,
  type PeerMessage,
} from '../../../replication/engine/transport.js';
import { GrpcCallError } from '../../../replication/grpc/call.js';
import { createEnginePeeringServices, startPeeringServer, type PeeringServer } from '../../../replication/grpc/engine-peering.js';
import { GrpcPeerTransport, PeerUnsupportedError } from '../../../replication/grpc/grpc-transport.js';
import { peeringService } from '../../../replication/grpc/protos.js';
import { clientCredentials, serverCredentials } from '../../../replication/security/policy.js';
import { MemoryReplicaStore } from '../../../replication/store/memory-store.js';
import { FredPeer } from '../grpc/fred-peer.js';
import { failure, makeCerts, type TestCerts } from './harness.js';
import { recordingHandler, type Recording } from './recording.js';

interface Ctx {
  certs: TestCerts;
  recording: Recording;
  server: PeeringServer;
  /** Node id → address, as the naming service would answer. */
  addresses: Map<string, string>;
  /** B's transport, checking that each peer presents its own node certificate. */
  transport: GrpcPeerTransport;
}

const test = suite<Ctx>('grpc transport: wire mapping and errors');

test.before(async (ctx) => {
  ctx.certs = await makeCerts(['A', 'B', 'C']);
  ctx.recording = recordingHandler();
  ctx.server = await startPeeringServer({
    host: '127.0.0.1', port: 0, credentials: await serverCredentials(ctx.certs.dir, 'A'), handler: ctx.recording.handler, shutdownGraceMs: 200,
  });
  ctx.addresses = new Map([['A', `127.0.0.1:${ctx.server.port}`]]);
  ctx.transport = new GrpcPeerTransport({
    resolve: async (peer) => ctx.addresses.get(peer),
    credentials: (peer) => clientCredentials(ctx.certs.dir, 'B', { serverNodeId: peer }),
    deadlineMs: 2_000,
  });
});

test.after(async (ctx) => {
  ctx.transport.close();
  await ctx.server.close();
  await ctx.certs.remove();
});

test.before.each(({ recording }) => {
  recording.calls.length = 0;
});

test('peer messages arrive as sent, from the certificate\'s node, with their ages', async ({ recording, transport }) => {
  const messages: PeerMessage[] = [
    { type: 'putItem', keygroup: 'kv', id: 'a', value: 'v', tombstone: false, version: { B: 3, A: 1 }, age: 1234 },
    { type: 'putItem', keygroup: 'kv', id: 'a', value: '', tombstone: true, version: { B: 4, A: 1 }, age: 0 },
    { type: 'appendItem', keygroup: 'log', id: '18446744073709551615', value: 'x', age: 5 },
    { type: 'createKeygroup', keygroup: 'kv', expiry: 30 },
    { type: 'deleteKeygroup', keygroup: 'kv' },
  ];
  for (const message of messages) await transport.send('A', message);
  assert.equal(recording.calls, messages.map((request) => ({ from: 'B', method: 'handle', request })));
});

test('age is field 100, after FReD\'s fields, and absent unless set', () => {
  const put = { keygroup: 'kg', id: 'a', val: 'v', tombstoned: false, version: {} };
  const fred = peeringService.PutItem!.requestSerialize(put).toString('hex');
  // Field 100, varint: tag (100 << 3) = 0x320 → a0 06; a Go decoder skips it as unknown.
  assert.is(peeringService.PutItem!.requestSerialize({ ...put, age: '300' }).toString('hex'), `${fred}a006ac02`);
  assert.equal(peeringService.PutItem!.requestDeserialize(Buffer.from(fred, 'hex')).age, undefined);
});

test('a FReD sender\'s messages arrive without age', async ({ certs, recording, addresses }) => {
  const fred = new FredPeer(addresses.get('A')!, await clientCredentials(certs.dir, 'C'), { deadlineMs: 2_000 });
  try {
    await fred.putItem({ keygroup: 'kv', id: 'a', value: 'v', tombstone: false, version: { C: 1 } });
    await fred.appendItem({ keygroup: 'log', id: '1', value: 'x' });
    assert.equal(recording.calls, [
      { from: 'C', method: 'handle', request: { type: 'putItem', keygroup: 'kv', id: 'a', value: 'v', tombstone: false, version: { C: 1 }, age: undefined } },
      { from: 'C', method: 'handle', request: { type: 'appendItem', keygroup: 'log', id: '1', value: 'x', age: undefined } },
    ]);
    // FReD reads our Data: a tombstone is an empty val, and the extra age field is skipped.
    recording.items = [
      { id: 'a', value: 'live', version: { A: 1 }, tombstone: false, age: 42 },
      { id: 'a', value: '', version: { A: 2 }, tombstone: true, age: 7 },
    ];
    assert.equal(await fred.getItem({ keygroup: 'kv', id: 'a' }), [
      { id: 'a', value: 'live', tombstone: false, version: { A: 1 } },
      { id: 'a', value: '', tombstone: true, version: { A: 2 } },
    ]);
  } finally {
    fred.close();
  }
});

test('items and digests come back as the handler answered', async ({ recording, transport }) => {
  recording.items = [
    { id: 'a', value: 'live', version: { A: 1 }, tombstone: false, age: 42 },
    { id: 'a', value: '', version: { A: 2, B: 1 }, tombstone: true, age: 7 },
  ];
  assert.equal(await transport.getItem('A', { keygroup: 'kv', id: 'a' }), recording.items);
  assert.equal(await transport.getAllItems('A', { keygroup: 'kv' }), recording.items);

  recording.digest = {
    differing: [3, 9],
    items: [{ id: 'a', siblings: [{ value: 'v', version: { A: 1 }, tombstone: false, age: 0 }, { value: '', version: { B: 2 }, tombstone: true, age: 9 }] }],
  };
  const request: DigestRequest = { keygroup: 'kv', buckets: 16, horizon: 60_000, hashes: Array.from({ length: 16 }, (_, i) => (i % 3 ? '' : `1.h${i}`)), maxBuckets: 4 };
  assert.equal(await transport.exchangeDigest('A', request), recording.digest);
  assert.equal(recording.calls.map((c) => [c.from, c.method, c.request]), [
    ['B', 'getItem', { keygroup: 'kv', id: 'a' }],
    ['B', 'getAllItems', { keygroup: 'kv' }],
    ['B', 'exchangeDigest', request],
  ]);
});

test('unreachable, slow or impostor peers are unavailable; refusals are not', async ({ certs, recording, addresses, transport }) => {
  const put = (id: string): PeerMessage => ({ type: 'putItem', keygroup: 'kv', id, value: 'v', tombstone: false, version: { B: 1 } });

  const unknown = await failure(() => transport.send('nobody', put('a')));
  assert.instance(unknown, PeerUnavailableError);
  assert.match(unknown.message, /no peering address known for node nobody/);

  // C's address leads to A: A's certificate is valid but names another node.
  addresses.set('C', addresses.get('A')!);
  assert.instance(await failure(() => transport.send('C', put('a'))), PeerUnavailableError);

  const impatient = new GrpcPeerTransport({ resolve: async (p) => addresses.get(p), credentials: await clientCredentials(certs.dir, 'B'), deadlineMs: 200 });
  recording.hangOn = 'slow';
  try {
    const slow = await failure(() => impatient.send('A', put('slow')));
    assert.instance(slow, PeerUnavailableError);
    assert.match(slow.message, /DEADLINE_EXCEEDED/);
  } finally {
    recording.hangOn = undefined;
    impatient.close();
  }

  const refused = await failure(() => transport.send('A', put('not valid')));
  assert.instance(refused, GrpcCallError);
  assert.is(refused.code, grpc.status.INVALID_ARGUMENT);
  assert.not.ok(isUnavailable(refused));

  const closed = new GrpcPeerTransport({ resolve: async (p) => addresses.get(p), credentials: await clientCredentials(certs.dir, 'B') });
  closed.close();
  assert.instance(await failure(() => closed.send('A', put('a'))), PeerUnavailableError);
});

test('a FReD node answers ExchangeDigest UNIMPLEMENTED; anti-entropy rounds compare with it through its full copy', async () => {
  // A FReD-like node A: the peering service only (an engine behind it, no AntiEntropy). Without
  // TLS, B names itself in the insecure header.
  const registry = new MemoryMembershipRegistry();
  const fredStore = new MemoryReplicaStore({ nodeId: 'A' });
  await fredStore.open();
  await fredStore.createKeygroup({ name: 'kv', mutable: true, expiry: 0 });
  const fredOutbox = new MemoryOutbox();
  await fredOutbox.open();
  const nowhere = new GrpcPeerTransport({ resolve: async () => undefined, credentials: grpc.credentials.createInsecure() });
  const fredEngine = new ReplicationEngine({ store: fredStore, outbox: fredOutbox, transport: nowhere, membership: registry.view('A'), antiEntropyIntervalMs: 0 });
  await fredEngine.start();
  const server = new grpc.Server();
  server.addService(peeringService, createEnginePeeringServices(fredEngine, { insecureTrustPeerHeader: true }).node);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const transport = new GrpcPeerTransport({
    resolve: async () => `127.0.0.1:${port}`, credentials: grpc.credentials.createInsecure(), deadlineMs: 2_000, insecureClaimNodeId: 'B',
  });
  const store = new MemoryReplicaStore({ nodeId: 'B' });
  await store.open();
  await store.createKeygroup({ name: 'kv', mutable: true, expiry: 0 });
  registry.createKeygroup('kv', { mutable: true, members: [{ nodeId: 'A', expiry: 0 }, { nodeId: 'B', expiry: 0 }] });
  const outbox = new MemoryOutbox();
  await outbox.open();
  const engine = new ReplicationEngine({ store, outbox, transport, membership: registry.view('B'), antiEntropyIntervalMs: 0 });
  await engine.start();
  try {
    const error = await failure(() => transport.exchangeDigest('A', { keygroup: 'kv', buckets: 16, horizon: 0, hashes: new Array(16).fill(''), maxBuckets: 4 }));
    assert.instance(error, PeerUnsupportedError);
    assert.instance(error, EnginePeerUnsupportedError, 'one class, defined with the engine\'s transport port');
    assert.is(error.code, 'ERR_PEER_UNSUPPORTED');
    assert.not.ok(isUnavailable(error));
    // The rest of FReD's protocol works with it: a write replicates as PutItem.
    const applied = await store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'x', value: 'to FReD' }]);
    assert.equal(await engine.replicateLocal(applied), { acknowledged: ['A'], pending: [] });
    assert.equal((await fredStore.read('kv', 'x')).map((s) => s.value), ['to FReD']);
    assert.equal(await engine.runAntiEntropy('kv'), { exchanges: 1, equal: 1, failed: 0, pulled: 0, pushed: 0 });
    // What each side holds alone is exchanged over FReD's own calls (GetAllItems, PutItem).
    await store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'b', value: 'only on B' }]);
    await fredStore.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'a', value: 'only on A' }]);
    assert.equal(await engine.runAntiEntropy('kv'), { exchanges: 1, equal: 0, failed: 0, pulled: 1, pushed: 1 });
    assert.equal((await fredStore.read('kv', 'b')).map((s) => s.value), ['only on B']);
    assert.equal((await store.read('kv', 'a')).map((s) => s.value), ['only on A']);
  } finally {
    await engine.stop();
    await fredEngine.stop();
    transport.close();
    nowhere.close();
    server.forceShutdown();
  }
});

test.run();
