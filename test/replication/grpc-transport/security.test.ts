// The engine's peering server refuses what FReD would accept: client certificates, non-members,
// malformed messages; and its insecure header mode works only when asked for by name.
import * as grpc from '@grpc/grpc-js';
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { PeerUnavailableError } from '../../../replication/engine/transport.js';
import { GrpcCallError, UnaryCaller } from '../../../replication/grpc/call.js';
import { INSECURE_PEER_HEADER, startPeeringServer } from '../../../replication/grpc/engine-peering.js';
import { GrpcPeerTransport } from '../../../replication/grpc/grpc-transport.js';
import { antiEntropyService, peeringService } from '../../../replication/grpc/protos.js';
import { clientCredentials } from '../../../replication/security/policy.js';
import { FredPeer } from '../grpc/fred-peer.js';
import { failure, GrpcCluster } from './harness.js';
import { recordingHandler } from './recording.js';

const status = (error: { code?: unknown }) => grpc.status[error.code as number] ?? String(error.code);

const digest = (keygroup: string, buckets = 16) => ({ keygroup, buckets, horizon: 0, hashes: new Array<string>(buckets).fill(''), maxBuckets: 8 });

test('a client certificate signed by the cluster CA may not use the peering API', async () => {
  const c = await GrpcCluster.start(['A', 'B'], { clients: ['alice'] });
  try {
    await c.createKeygroup('kv', ['A', 'B']);
    await c.write('A', [{ kind: 'set', keygroup: 'kv', id: 'x', value: 'secret' }]);
    const credentials = await clientCredentials(c.certs.dir, 'alice');
    // FReD's peering calls, as a FReD client would make them...
    const fred = new FredPeer(c.addresses.get('A')!, credentials, { deadlineMs: 2_000 });
    // ...and Enoki's anti-entropy.
    const enoki = new GrpcPeerTransport({ resolve: async () => c.addresses.get('A'), credentials, deadlineMs: 2_000 });
    try {
      for (const call of [
        () => fred.getAllItems('kv'),
        () => fred.putItem({ keygroup: 'kv', id: 'x', value: 'forged', tombstone: false, version: { A: 9 } }),
        () => enoki.exchangeDigest('A', digest('kv')),
      ]) {
        const error = await failure(call);
        assert.instance(error, GrpcCallError);
        assert.is(status(error), 'PERMISSION_DENIED', error.message);
        assert.match(error.message, /for cluster nodes only: certificate alice is not a node certificate/);
      }
      assert.equal((await c.node('A').store.read('kv', 'x')).map((s) => s.value), ['secret']);
    } finally {
      fred.close();
      enoki.close();
    }
  } finally {
    await c.close();
  }
});

test('a node that is not a replica of the keygroup is refused', async () => {
  const c = await GrpcCluster.start(['A', 'B', 'D']);
  try {
    await c.createKeygroup('kv', ['A', 'B']);
    const error = await failure(() => c.node('D').transport.getAllItems('A', { keygroup: 'kv' }));
    assert.is(status(error), 'PERMISSION_DENIED', error.message);
    assert.match(error.message, /D is not a replica of keygroup kv/);
  } finally {
    await c.close();
  }
});

test('malformed messages get INVALID_ARGUMENT and the server keeps serving', async () => {
  const c = await GrpcCluster.start(['A', 'B']);
  try {
    await c.createKeygroup('kv', ['A', 'B']);
    // Raw calls with B's node certificate, bypassing every client-side check.
    const raw = new UnaryCaller(c.addresses.get('A')!, await clientCredentials(c.certs.dir, 'B'), { deadlineMs: 2_000 });
    const put = (fields: object) => raw.call(peeringService.PutItem!, { keygroup: 'kv', id: 'x', val: 'v', version: { B: 1 }, ...fields });
    try {
      const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
        ['bad id', () => put({ id: 'no spaces!' }), /item id/],
        ['huge version counter', () => put({ version: { B: '18446744073709551615' } }), /above 9007199254740991/],
        ['empty live value', () => put({ val: '' }), /empty but not tombstoned/],
        ['bad node id in version', () => put({ version: { 'B:1': 1 } }), /invalid version/],
        ['bad append id', () => raw.call(peeringService.AppendItem!, { keygroup: 'kv', id: '007', data: 'x' }), /append id/],
        ['negative expiry', () => raw.call(peeringService.CreateKeygroup!, { keygroup: 'kv', expiry: -1 }), /negative/],
        ['bad keygroup', () => raw.call(peeringService.GetAllItems!, { keygroup: '../etc' }), /keygroup name/],
        ['digest bucket count', () => raw.call(antiEntropyService.ExchangeDigest!, { ...digest('kv'), buckets: 3 }), /malformed digest/],
        ['digest hash count', () => raw.call(antiEntropyService.ExchangeDigest!, { ...digest('kv'), hashes: ['a'] }), /malformed digest/],
      ];
      for (const [what, call, mentions] of cases) {
        const error = await failure(call);
        assert.is(status(error), 'INVALID_ARGUMENT', `${what}: ${error.message}`);
        assert.match(error.message, mentions, what);
      }
      await put({ id: 'fine', version: { B: 1 } });
      assert.equal((await c.node('A').store.read('kv', 'fine')).map((s) => s.value), ['v']);
    } finally {
      raw.close();
    }
  } finally {
    await c.close();
  }
});

test('the caller id header is trusted only by a server made with insecureTrustPeerHeader', async () => {
  const { handler, calls } = recordingHandler();
  const trusting = await startPeeringServer({
    host: '127.0.0.1', port: 0, credentials: grpc.ServerCredentials.createInsecure(), handler, insecureTrustPeerHeader: true,
  });
  const strict = await startPeeringServer({ host: '127.0.0.1', port: 0, credentials: grpc.ServerCredentials.createInsecure(), handler });
  const addresses: Record<string, string> = { trusting: `127.0.0.1:${trusting.port}`, strict: `127.0.0.1:${strict.port}` };
  const transport = (claim?: string) =>
    new GrpcPeerTransport({ resolve: async (p) => addresses[p], credentials: grpc.credentials.createInsecure(), deadlineMs: 2_000, insecureClaimNodeId: claim });
  const asB = transport('B');
  const anonymous = transport();
  try {
    await asB.send('trusting', { type: 'deleteKeygroup', keygroup: 'kv' });
    assert.equal(calls.map((call) => call.from), ['B']);

    const refused = await failure(() => asB.send('strict', { type: 'deleteKeygroup', keygroup: 'kv' }));
    assert.is(status(refused), 'UNAUTHENTICATED', refused.message);
    const unnamed = await failure(() => anonymous.send('trusting', { type: 'deleteKeygroup', keygroup: 'kv' }));
    assert.is(status(unnamed), 'UNAUTHENTICATED', unnamed.message);
    assert.match(unnamed.message, new RegExp(INSECURE_PEER_HEADER));
    assert.is(calls.length, 1);

    // A server that is gone reads as unavailable, so the engine retries instead of dropping.
    await trusting.close();
    assert.instance(await failure(() => asB.send('trusting', { type: 'deleteKeygroup', keygroup: 'kv' })), PeerUnavailableError);
  } finally {
    asB.close();
    anonymous.close();
    await trusting.close();
    await strict.close();
  }
});

test.run();
