// Real mTLS handshakes on loopback with generated certificates: who gets in, and what the policy makes of them.
import { X509Certificate } from 'node:crypto';
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import {
  createCa,
  issueClientCertificate,
  issueNodeCertificate,
  type CertificateAuthority,
  type IssuedCertificate,
} from '../../../replication/security/certs.js';
import {
  checkNodeCertificate,
  checkUser,
  isNodeCertificate,
  tlsClientOptions,
  tlsServerOptions,
  userOf,
  type TlsMaterial,
} from '../../../replication/security/policy.js';
import { handshake } from './helpers.js';

const DAY = 86_400_000;
let ca: CertificateAuthority;
let server: IssuedCertificate;

const material = (authority: CertificateAuthority, cert: IssuedCertificate): TlsMaterial => ({
  ca: Buffer.from(authority.certPem),
  cert: Buffer.from(cert.certPem),
  key: Buffer.from(cert.keyPem),
});

test.before(async () => {
  ca = await createCa({ commonName: 'Handshake test CA' });
  server = await issueNodeCertificate(ca, { nodeId: 'server-node', hosts: ['127.0.0.1', 'localhost'] });
});

test('(a) a node certificate client is accepted and recognised as a node', async () => {
  const peerNode = await issueNodeCertificate(ca, { nodeId: 'nodeB', hosts: ['10.0.0.2'] });
  const out = await handshake(tlsServerOptions(material(ca, server)), tlsClientOptions(material(ca, peerNode)));
  assert.ok(out.accepted, String(out.serverError ?? out.clientError));
  assert.ok(out.clientGotGreeting);
  assert.ok(out.serverSocket?.authorized);
  const peer = out.peer;
  assert.ok(isNodeCertificate(peer));
  assert.equal(checkNodeCertificate(peer), { ok: true, nodeId: 'nodeB' });
  assert.equal(checkUser(peer), { ok: true, user: 'nodeB', kind: 'node' });
});

test('(b) a client certificate completes the handshake but is no node; its CN is the user', async () => {
  const alice = await issueClientCertificate(ca, { user: 'alice' });
  const out = await handshake(tlsServerOptions(material(ca, server)), tlsClientOptions(material(ca, alice)));
  assert.ok(out.accepted, String(out.serverError ?? out.clientError));
  assert.ok(out.clientGotGreeting);
  const peer = out.peer;
  assert.is(isNodeCertificate(peer), false);
  const check = checkNodeCertificate(peer);
  assert.is(check.ok, false);
  if (!check.ok) {
    assert.is(check.code, 'ERR_PEER_NOT_NODE');
    assert.ok(check.reason.includes('enoki-node'), check.reason);
  }
  assert.is(userOf(peer), 'alice');
});

test('(c) a certificate from another CA is refused', async () => {
  const otherCa = await createCa({ commonName: 'Handshake test CA' }); // same name, different key
  const intruder = await issueNodeCertificate(otherCa, { nodeId: 'nodeB', hosts: ['127.0.0.1'] });
  // Trusts the cluster CA (so it accepts our server) but presents a certificate of the other CA.
  const clientOptions = { ...tlsClientOptions(material(ca, intruder)) };
  const out = await handshake(tlsServerOptions(material(ca, server)), clientOptions);
  assert.is(out.accepted, false);
  assert.is(out.clientGotGreeting, false);
  assert.ok(out.serverError, 'server reports the rejected client certificate');
  assert.ok(out.serverAuthorizationError, 'the TLS layer refused the certificate, not the policy');

  // And the other way round: a client of the cluster refuses a server of the other CA.
  const out2 = await handshake(tlsServerOptions(material(otherCa, intruder)), tlsClientOptions(material(ca, server)));
  assert.is(out2.accepted, false);
  assert.is(out2.clientGotGreeting, false);
  assert.match(String(out2.clientError), /self[- ]signed|unable to (verify|get)|certificate/i);
});

test('(d) an expired client certificate is refused, and so is an expired server certificate', async () => {
  const notBefore = new Date(Date.now() - 10 * DAY);
  const expired = await issueNodeCertificate(ca, { nodeId: 'nodeOld', hosts: ['127.0.0.1'], notBefore, days: 1 });
  assert.ok(Date.parse(new X509Certificate(expired.certPem).validTo) < Date.now());
  const out = await handshake(tlsServerOptions(material(ca, server)), tlsClientOptions(material(ca, expired)));
  assert.is(out.accepted, false);
  assert.is(out.clientGotGreeting, false);
  assert.is(out.serverAuthorizationError, 'CERT_HAS_EXPIRED');

  const fresh = await issueNodeCertificate(ca, { nodeId: 'nodeB', hosts: ['127.0.0.1'] });
  const out2 = await handshake(tlsServerOptions(material(ca, expired)), tlsClientOptions(material(ca, fresh)));
  assert.is(out2.accepted, false);
  assert.match(String(out2.clientError), /expired/i);
});

test('a client without a certificate is refused', async () => {
  const { ca: caPem } = material(ca, server);
  const out = await handshake(tlsServerOptions(material(ca, server)), { ca: caPem, rejectUnauthorized: true });
  assert.is(out.accepted, false);
  assert.is(out.clientGotGreeting, false);
  assert.ok(out.serverError ?? out.serverAuthorizationError, 'the server refused it');
});

test('the client side checks the server: right host, node certificate, expected node id', async () => {
  const alice = await issueClientCertificate(ca, { user: 'alice' });
  const client = material(ca, alice);
  // A node certificate whose SANs do not include the address dialled.
  const elsewhere = await issueNodeCertificate(ca, { nodeId: 'far', hosts: ['10.9.9.9'] });
  const wrongHost = await handshake(tlsServerOptions(material(ca, elsewhere)), tlsClientOptions(client));
  assert.is(wrongHost.clientGotGreeting, false);
  assert.match(String(wrongHost.clientError), /127\.0\.0\.1|IP/);

  const pinned = await handshake(tlsServerOptions(material(ca, server)), tlsClientOptions(client, { serverNodeId: 'server-node' }));
  assert.ok(pinned.clientGotGreeting, String(pinned.clientError));
  const wrongNode = await handshake(tlsServerOptions(material(ca, server)), tlsClientOptions(client, { serverNodeId: 'nodeZ' }));
  assert.is(wrongNode.clientGotGreeting, false);
  assert.match(String(wrongNode.clientError), /expected nodeZ/);
});

test.run();
