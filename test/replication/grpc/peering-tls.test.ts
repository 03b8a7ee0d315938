// The peering server over mutual TLS with node certificates: the engine sees the client
// certificate's node id as the caller, and certificates from another CA, servers the client does
// not trust and callers without a certificate are refused before the engine runs.
import * as grpc from '@grpc/grpc-js';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { startPeeringServer, type PeeringServer } from '../../../replication/grpc/engine-peering.js';
import { clientCredentials, readTlsMaterial, serverCredentials, type TlsMaterial } from '../../../replication/security/policy.js';
import { recordingHandler, type Recording } from '../grpc-transport/recording.js';
import { makeCerts, type TestCerts } from '../grpc-transport/harness.js';
import { FredPeer } from './fred-peer.js';
import { writeFredFormatCertificates } from '../../interop/fred-format-certs.js';
import { rejectsWith } from './helpers.js';

interface Ctx {
  certs: TestCerts;
  /** Another cluster's CA, which signed another node A. */
  other: TestCerts;
  mine: TlsMaterial;
  stranger: TlsMaterial;
  recording: Recording;
}

const test = suite<Ctx>('grpc: peering over mutual TLS');

test.before(async (ctx) => {
  ctx.certs = await makeCerts(['A', 'B']);
  ctx.other = await makeCerts(['A']);
  ctx.mine = await readTlsMaterial(ctx.certs.dir, 'A');
  ctx.stranger = await readTlsMaterial(ctx.other.dir, 'A');
  ctx.recording = recordingHandler();
});

test.before.each(({ recording }) => {
  recording.calls.length = 0;
});

test.after(async ({ certs, other }) => {
  await certs.remove();
  await other.remove();
});

async function serveB(ctx: Ctx, credentials?: grpc.ServerCredentials): Promise<PeeringServer & { address: string }> {
  const server = await startPeeringServer({
    host: '127.0.0.1', port: 0, credentials: credentials ?? (await serverCredentials(ctx.certs.dir, 'B')), handler: ctx.recording.handler, shutdownGraceMs: 200,
  });
  return Object.assign(server, { address: `127.0.0.1:${server.port}` });
}

test('the engine sees the client certificate\'s node id as the caller', async (ctx) => {
  const server = await serveB(ctx);
  const client = new FredPeer(server.address, await clientCredentials(ctx.certs.dir, 'A', { serverNodeId: 'B' }));
  try {
    await client.createKeygroup({ keygroup: 'kv', expiry: 0 });
    await client.putItem({ keygroup: 'kv', id: 'a', value: 'v', tombstone: false, version: { A: 1 } });
    await client.getItem({ keygroup: 'kv', id: 'a' });
    assert.equal(ctx.recording.calls.map((call) => call.from), ['A', 'A', 'A']);
  } finally {
    client.close();
    await server.close();
  }
});

test('a client certificate from another CA, or none, is refused before the engine runs', async (ctx) => {
  const server = await serveB(ctx);
  const { mine, stranger: other } = ctx;
  const stranger = new FredPeer(server.address, grpc.credentials.createSsl(mine.ca, other.key, other.cert), { deadlineMs: 2000 });
  const anonymous = new FredPeer(server.address, grpc.credentials.createSsl(mine.ca), { deadlineMs: 2000 });
  try {
    await rejectsWith(() => stranger.getAllItems('kv'), grpc.status.UNAVAILABLE);
    await rejectsWith(() => anonymous.getAllItems('kv'), grpc.status.UNAVAILABLE);
    assert.is(ctx.recording.calls.length, 0);
  } finally {
    stranger.close();
    anonymous.close();
    await server.close();
  }
});

test('a server not trusted by the client is refused', async (ctx) => {
  const server = await serveB(ctx);
  // The client trusts only the other CA, not the one that signed the server's certificate.
  const client = new FredPeer(server.address, grpc.credentials.createSsl(ctx.stranger.ca, ctx.mine.key, ctx.mine.cert), { deadlineMs: 2000 });
  try {
    await rejectsWith(() => client.getAllItems('kv'), grpc.status.UNAVAILABLE);
    assert.is(ctx.recording.calls.length, 0);
  } finally {
    client.close();
    await server.close();
  }
});

test('where TLS lets a caller in without a certificate, the server refuses it UNAUTHENTICATED', async (ctx) => {
  const b = await readTlsMaterial(ctx.certs.dir, 'B');
  const server = await serveB(ctx, grpc.ServerCredentials.createSsl(b.ca, [{ private_key: b.key, cert_chain: b.cert }], false));
  const anonymous = new FredPeer(server.address, grpc.credentials.createSsl(ctx.mine.ca));
  try {
    await rejectsWith(() => anonymous.getAllItems('kv'), grpc.status.UNAUTHENTICATED);
    assert.is(ctx.recording.calls.length, 0);
  } finally {
    anonymous.close();
    await server.close();
  }
});

test("certificates in FReD's format: a caller is the registered node its CN names; the server is the node dialled", async (ctx) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-fred-certs-'));
  try {
    writeFredFormatCertificates(dir, ['A', 'B', 'C']);
    const registered = new Set(['A', 'B']);
    const server = await startPeeringServer({
      host: '127.0.0.1', port: 0, credentials: await serverCredentials(dir, 'B'), handler: ctx.recording.handler, shutdownGraceMs: 200,
      isClusterNode: (id) => registered.has(id),
    });
    const address = `127.0.0.1:${server.port}`;
    const a = new FredPeer(address, await clientCredentials(dir, 'A', { serverNodeId: 'B' }));
    const c = new FredPeer(address, await clientCredentials(dir, 'C', { serverNodeId: 'B' }), { deadlineMs: 2000 });
    // Dialling B, a server whose FReD-format certificate names another node is refused.
    const wrong = new FredPeer(address, await clientCredentials(dir, 'A', { serverNodeId: 'C' }), { deadlineMs: 2000 });
    try {
      await a.putItem({ keygroup: 'kv', id: 'a', value: 'v', tombstone: false, version: { A: 1 } });
      assert.equal(ctx.recording.calls.map((call) => call.from), ['A']);
      // C's certificate is CA-signed and FReD-shaped, but C is no registered node.
      await rejectsWith(() => c.getAllItems('kv'), grpc.status.PERMISSION_DENIED);
      await rejectsWith(() => wrong.getAllItems('kv'), grpc.status.UNAVAILABLE);
      assert.is(ctx.recording.calls.length, 1);
    } finally {
      a.close();
      c.close();
      wrong.close();
      await server.close();
    }
    // Without a way to check registrations, only Enoki node certificates may peer.
    const strict = await startPeeringServer({ host: '127.0.0.1', port: 0, credentials: await serverCredentials(dir, 'B'), handler: ctx.recording.handler, shutdownGraceMs: 200 });
    const a2 = new FredPeer(`127.0.0.1:${strict.port}`, await clientCredentials(dir, 'A', { serverNodeId: 'B' }));
    try {
      await rejectsWith(() => a2.getAllItems('kv'), grpc.status.PERMISSION_DENIED);
    } finally {
      a2.close();
      await strict.close();
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test.run();
