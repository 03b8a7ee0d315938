// Peering over mutual TLS with certificates made by openssl: the handler sees the client
// certificate's CN as the peer's name, and a certificate from another CA is refused.
import * as grpc from '@grpc/grpc-js';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { GrpcPeerClient } from '../../../replication/grpc/peering-client.js';
import type { PeerIdentity, PeeringHandler } from '../../../replication/grpc/peering-handler.js';
import { createPeeringService, peeringService } from '../../../replication/grpc/peering-server.js';
import { StorePeeringHandler } from '../../../replication/grpc/store-peering-handler.js';
import { MemoryReplicaStore } from '../../../replication/store/memory-store.js';
import { makePki, rejectsWith, startServer, type TestPki } from './helpers.js';

interface Ctx {
  pki: TestPki;
  peers: PeerIdentity[];
  handler: PeeringHandler;
}

const test = suite<Ctx>('grpc: peering over mutual TLS');

test.before(async (ctx) => {
  ctx.pki = makePki();
  const store = new MemoryReplicaStore({ nodeId: 'node1' });
  await store.open();
  const inner = new StorePeeringHandler(store);
  ctx.peers = [];
  // Records who called, then does the real work.
  ctx.handler = {
    createKeygroup: (req, peer) => (ctx.peers.push(peer), inner.createKeygroup(req)),
    deleteKeygroup: (req, peer) => (ctx.peers.push(peer), inner.deleteKeygroup(req)),
    putItem: (req, peer) => (ctx.peers.push(peer), inner.putItem(req)),
    appendItem: (req, peer) => (ctx.peers.push(peer), inner.appendItem(req)),
    getItem: (req, peer) => (ctx.peers.push(peer), inner.getItem(req)),
    getAllItems: (req, peer) => (ctx.peers.push(peer), inner.getAllItems(req)),
  };
});

test.after(({ pki }) => pki.remove());

const serverCredentials = (pki: TestPki, requireClientCertificate: boolean) =>
  grpc.ServerCredentials.createSsl(pki.ca, [{ private_key: pki.server.key, cert_chain: pki.server.cert }], requireClientCertificate);

test('the handler sees the client certificate\'s CN', async ({ pki, peers, handler }) => {
  const server = await startServer([[peeringService, createPeeringService(handler)]], serverCredentials(pki, true));
  const client = new GrpcPeerClient(server.address, grpc.credentials.createSsl(pki.ca, pki.client.key, pki.client.cert));
  try {
    await client.createKeygroup({ keygroup: 'kv', expiry: 0 });
    await client.putItem({ keygroup: 'kv', id: 'a', value: 'v', tombstone: false, version: { node2: 1 } });
    assert.equal((await client.getItem({ keygroup: 'kv', id: 'a' })).map((i) => i.value), ['v']);
    assert.is(peers.length, 3);
    for (const peer of peers) {
      assert.is(peer.commonName, 'node2');
      assert.is(peer.certificate?.issuer.CN, 'ca');
      assert.match(peer.address, /^127\.0\.0\.1:\d+$/);
    }
  } finally {
    client.close();
    server.stop();
  }
});

test('a client certificate from another CA is refused before the handler runs', async ({ pki, peers, handler }) => {
  peers.length = 0;
  const server = await startServer([[peeringService, createPeeringService(handler)]], serverCredentials(pki, true));
  const stranger = new GrpcPeerClient(server.address, grpc.credentials.createSsl(pki.ca, pki.stranger.key, pki.stranger.cert), { deadlineMs: 2000 });
  const anonymous = new GrpcPeerClient(server.address, grpc.credentials.createSsl(pki.ca), { deadlineMs: 2000 });
  try {
    await rejectsWith(() => stranger.getAllItems('kv'), grpc.status.UNAVAILABLE);
    await rejectsWith(() => anonymous.getAllItems('kv'), grpc.status.UNAVAILABLE);
    assert.is(peers.length, 0);
  } finally {
    stranger.close();
    anonymous.close();
    server.stop();
  }
});

test('a server not trusted by the client is refused', async ({ pki, handler }) => {
  const server = await startServer([[peeringService, createPeeringService(handler)]], serverCredentials(pki, true));
  // The client trusts only the other CA, not the one that signed the server's certificate.
  const client = new GrpcPeerClient(
    server.address,
    grpc.credentials.createSsl(pki.otherCa, pki.client.key, pki.client.cert),
    { deadlineMs: 2000 },
  );
  try {
    await rejectsWith(() => client.getAllItems('kv'), grpc.status.UNAVAILABLE);
  } finally {
    client.close();
    server.stop();
  }
});

test('without a verified client certificate there is no CN', async ({ pki, peers, handler }) => {
  peers.length = 0;
  const server = await startServer([[peeringService, createPeeringService(handler)]], serverCredentials(pki, false));
  const anonymous = new GrpcPeerClient(server.address, grpc.credentials.createSsl(pki.ca));
  try {
    assert.equal(await anonymous.getAllItems('kv'), [{ id: 'a', value: 'v', tombstone: false, version: { node2: 1 } }]);
    assert.is(peers.length, 1);
    assert.is(peers[0]!.commonName, undefined);
    assert.is(peers[0]!.certificate, undefined);
  } finally {
    anonymous.close();
    server.stop();
  }
});

test.run();
