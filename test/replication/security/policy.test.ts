// The peer policy on certificates with partial or contradictory marks, and grpc-js credentials over a real mTLS channel.
import 'reflect-metadata';
import * as grpc from '@grpc/grpc-js';
import * as x509 from '@peculiar/x509';
import { X509Certificate, webcrypto } from 'node:crypto';
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import {
  createCa,
  issueClientCertificate,
  issueNodeCertificate,
  writeCertificateSet,
  type CertificateAuthority,
} from '../../../replication/security/certs.js';
import {
  callerAddress,
  certificateCoversAddress,
  certificateOfCall,
  checkNodeCertificate,
  fredFormatNodeId,
  checkUser,
  clientCredentials,
  isNodeCertificate,
  nodeIdOf,
  readTlsMaterial,
  serverCredentials,
  userOf,
} from '../../../replication/security/policy.js';
import { rejectsCode, withTempDir } from './helpers.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const crypto = webcrypto as unknown as Crypto;
const KEY = { name: 'ECDSA', namedCurve: 'P-256' };

/** A CA-signed certificate with whatever subject, SANs and EKU a test wants: what someone holding the CA key by other tooling could mint. */
async function craft(ca: CertificateAuthority, spec: { subject: x509.JsonNameParams; sans?: x509.JsonGeneralName[]; eku?: string[] }) {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.keyPem), KEY, false, ['sign']);
  const keys = (await webcrypto.subtle.generateKey(KEY, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const extensions: x509.Extension[] = [];
  if (spec.eku) extensions.push(new x509.ExtendedKeyUsageExtension(spec.eku));
  if (spec.sans) extensions.push(new x509.SubjectAlternativeNameExtension(spec.sans));
  const cert = await x509.X509CertificateGenerator.create(
    {
      subject: new x509.Name(spec.subject),
      issuer: caCert.subjectName,
      publicKey: keys.publicKey,
      signingKey: caKey as unknown as CryptoKey,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions,
    },
    crypto,
  );
  return new X509Certificate(cert.toString('pem'));
}

const name = (cn: string, ...ous: string[]): x509.JsonNameParams => [...ous.map((ou) => ({ OU: [ou] })), { CN: [cn] }];
const uri = (value: string): x509.JsonGeneralName => ({ type: 'url', value });

test('certificates issued by the tooling: node vs client, from X509Certificate as well as PeerCertificate', async () => {
  const ca = await createCa({ commonName: 'Policy CA' });
  const node = new X509Certificate((await issueNodeCertificate(ca, { nodeId: 'n1', hosts: ['127.0.0.1'] })).certPem);
  const client = new X509Certificate((await issueClientCertificate(ca, { user: 'alice' })).certPem);
  assert.ok(isNodeCertificate(node));
  assert.is(nodeIdOf(node), 'n1');
  assert.ok(isNodeCertificate(node.toLegacyObject()));
  assert.is(isNodeCertificate(client), false);
  assert.is(userOf(client), 'alice');
  assert.equal(checkUser(client), { ok: true, user: 'alice', kind: 'client' });
  await rejectsCode(() => nodeIdOf(client), 'ERR_PEER_NOT_NODE');
});

test('a CA-signed certificate needs both node marks, matching its CN, and both EKUs to count as a node', async () => {
  const ca = await createCa({ commonName: 'Policy CA' });
  const both = [SERVER_AUTH, CLIENT_AUTH];
  const cases: [string, Parameters<typeof craft>[1], RegExp][] = [
    ['plain CA-signed (what FReD accepts)', { subject: name('n1'), eku: both }, /OU=enoki-node/],
    ['OU mark only', { subject: name('n1', 'enoki-node'), eku: both }, /URI SAN enoki:\/\/node\/n1/],
    ['URI mark only', { subject: name('n1'), sans: [uri('enoki://node/n1')], eku: both }, /OU=enoki-node/],
    ['URI naming another node', { subject: name('n1', 'enoki-node'), sans: [uri('enoki://node/n2')], eku: both }, /enoki:\/\/node\/n1/],
    ['two node URIs', { subject: name('n1', 'enoki-node'), sans: [uri('enoki://node/n1'), uri('enoki://node/n2')], eku: both }, /n2/],
    ['marked client too', { subject: name('n1', 'enoki-node', 'enoki-client'), sans: [uri('enoki://node/n1')], eku: both }, /both/],
    ['clientAuth only', { subject: name('n1', 'enoki-node'), sans: [uri('enoki://node/n1')], eku: [CLIENT_AUTH] }, /serverAuth/],
    ['no EKU', { subject: name('n1', 'enoki-node'), sans: [uri('enoki://node/n1')] }, /serverAuth/],
  ];
  for (const [label, spec, reason] of cases) {
    const check = checkNodeCertificate(await craft(ca, spec));
    assert.is(check.ok, false, label);
    if (!check.ok) {
      assert.is(check.code, 'ERR_PEER_NOT_NODE', label);
      assert.match(check.reason, reason, `${label}: ${check.reason}`);
    }
  }
  // The control: the same construction with everything in place does pass.
  const good = await craft(ca, { subject: name('n1', 'enoki-node'), sans: [uri('enoki://node/n1')], eku: both });
  assert.equal(checkNodeCertificate(good), { ok: true, nodeId: 'n1' });
});

test('userOf: CN of a clientAuth certificate, with clear refusals', async () => {
  const ca = await createCa({ commonName: 'Policy CA' });
  // A certificate from other tooling without our marks is still a user.
  assert.is(userOf(await craft(ca, { subject: name('bob'), eku: [CLIENT_AUTH] })), 'bob');
  const refusals: [string, Parameters<typeof craft>[1], RegExp][] = [
    ['serverAuth only', { subject: name('bob'), eku: [SERVER_AUTH] }, /clientAuth/],
    ['no CN', { subject: [{ O: ['acme'] }], eku: [CLIENT_AUTH] }, /common name/],
    ['two CNs', { subject: [{ CN: ['bob'] }, { CN: ['eve'] }], eku: [CLIENT_AUTH] }, /common name/],
    ['client URI of someone else', { subject: name('bob', 'enoki-client'), sans: [uri('enoki://client/eve')], eku: [CLIENT_AUTH] }, /eve/],
    ['half-marked node', { subject: name('n1', 'enoki-node'), eku: [SERVER_AUTH, CLIENT_AUTH] }, /URI SAN/],
  ];
  for (const [label, spec, reason] of refusals) {
    const check = checkUser(await craft(ca, spec));
    assert.is(check.ok, false, label);
    if (!check.ok) assert.match(check.reason, reason, `${label}: ${check.reason}`);
    await rejectsCode(async () => userOf(await craft(ca, spec)), 'ERR_PEER_NO_USER');
  }
  for (const nothing of [undefined, null, {} as never]) {
    assert.equal(checkUser(nothing), { ok: false, code: 'ERR_PEER_NO_CERTIFICATE', reason: 'peer presented no certificate' });
    assert.is(isNodeCertificate(nothing), false);
  }
});

test('readTlsMaterial reports a missing file by name', async () => {
  await withTempDir(async (dir) => {
    await rejectsCode(() => readTlsMaterial(dir, 'n1'), 'ERR_CERT_MISSING', 'ca.pem');
  });
});

// A unary method without .proto files: raw bytes in and out.
const echo = {
  path: '/enoki.test.Echo/Who',
  requestStream: false,
  responseStream: false,
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
} as const;

test('grpc-js credentials from a certificate directory: mTLS call, peer identity, refusals', async () => {
  await withTempDir(async (dir) => {
    const ca = await createCa({ commonName: 'gRPC CA' });
    const certificates = [
      await issueNodeCertificate(ca, { nodeId: 'n1', hosts: ['127.0.0.1'] }),
      await issueNodeCertificate(ca, { nodeId: 'n2', hosts: ['127.0.0.2'] }),
      await issueClientCertificate(ca, { user: 'alice' }),
    ];
    await writeCertificateSet(dir, { ca, certificates });
    const otherDir = `${dir}/other`;
    // Trusts the cluster CA (so the server passes) but presents a node certificate of another CA.
    const otherCa = await createCa({ commonName: 'gRPC CA' });
    const foreignNode = await issueNodeCertificate(otherCa, { nodeId: 'n2', hosts: ['127.0.0.1'] });
    await writeCertificateSet(otherDir, { ca, certificates: [foreignNode] });

    const server = new grpc.Server();
    server.addService({ Who: echo }, {
      Who: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const cert = certificateOfCall(call);
        const node = checkNodeCertificate(cert);
        callback(null, Buffer.from(node.ok ? `node:${node.nodeId}` : `user:${userOf(cert)}`));
      },
    });
    const creds = await serverCredentials(dir, 'n1');
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))),
    );
    const call = async (creds: grpc.ChannelCredentials): Promise<string> => {
      const client = new grpc.Client(`127.0.0.1:${port}`, creds);
      try {
        return await new Promise<string>((resolve, reject) => {
          const { path: method, requestSerialize, responseDeserialize } = echo;
          const deadline = { deadline: Date.now() + 5000 };
          client.makeUnaryRequest(method, requestSerialize, responseDeserialize, Buffer.from('?'), deadline, (err, res) =>
            err ? reject(err) : resolve(res!.toString()),
          );
        });
      } finally {
        client.close();
      }
    };
    try {
      assert.is(await call(await clientCredentials(dir, 'n2')), 'node:n2');
      assert.is(await call(await clientCredentials(dir, 'alice', { serverNodeId: 'n1' })), 'user:alice');
      const wrongNode = await call(await clientCredentials(dir, 'alice', { serverNodeId: 'n9' })).catch((e: grpc.ServiceError) => e);
      assert.is((wrongNode as grpc.ServiceError).code, grpc.status.UNAVAILABLE, 'the server is not the node expected');
      const foreign = await call(await clientCredentials(otherDir, 'n2')).catch((e: grpc.ServiceError) => e);
      assert.is((foreign as grpc.ServiceError).code, grpc.status.UNAVAILABLE, 'a client of another CA does not get through');
    } finally {
      server.forceShutdown();
    }
  });
});

test("FReD's format: a CN with both key usages and none of Enoki's marks names a node candidate; marked ones never", async () => {
  const ca = await createCa({ commonName: 'Policy CA' });
  const both = [SERVER_AUTH, CLIENT_AUTH];
  const ip = (value: string): x509.JsonGeneralName => ({ type: 'ip', value });
  // As FReD's gen-certs.sh makes them: OU=FRED, CN, IP and DNS SANs, serverAuth + clientAuth.
  const fredNode = await craft(ca, { subject: name('nodeB', 'FRED'), sans: [ip('127.0.0.1'), { type: 'dns', value: 'localhost' }], eku: both });
  assert.is(fredFormatNodeId(fredNode), 'nodeB');
  assert.not.ok(isNodeCertificate(fredNode), 'not a node by itself: the caller must expect that id');
  assert.is(fredFormatNodeId(await craft(ca, { subject: name('nodeB'), sans: [ip('127.0.0.1')] })), 'nodeB', 'no EKU means any use');
  assert.is(fredFormatNodeId(await craft(ca, { subject: name('nodeB', 'FRED'), eku: [CLIENT_AUTH] })), undefined, 'client-only');
  // Anything carrying an Enoki mark is judged by Enoki's rules only.
  const enokiClient = new X509Certificate((await issueClientCertificate(ca, { user: 'nodeB', hosts: ['127.0.0.1'] })).certPem);
  assert.is(fredFormatNodeId(enokiClient), undefined);
  assert.is(fredFormatNodeId(await craft(ca, { subject: name('nodeB', 'enoki-node'), eku: both })), undefined);
  assert.is(fredFormatNodeId(await craft(ca, { subject: name('nodeB'), sans: [uri('enoki://client/nodeB')], eku: both })), undefined);
});

test("a client's source address must be an IP SAN of its certificate (FReD's client-API rule)", async () => {
  const ca = await createCa({ commonName: 'Policy CA' });
  const client = new X509Certificate((await issueClientCertificate(ca, { user: 'alice', hosts: ['127.0.0.1', '::1', 'localhost'] })).certPem);
  assert.ok(certificateCoversAddress(client, '127.0.0.1'));
  assert.ok(certificateCoversAddress(client, '::ffff:127.0.0.1'), 'IPv4-mapped form');
  assert.ok(certificateCoversAddress(client, '0:0:0:0:0:0:0:1'), 'another spelling of ::1');
  assert.not.ok(certificateCoversAddress(client, '127.0.0.2'));
  assert.not.ok(certificateCoversAddress(client, 'localhost'), 'a DNS SAN is no address');
  const bare = new X509Certificate((await issueClientCertificate(ca, { user: 'bob' })).certPem);
  assert.not.ok(certificateCoversAddress(bare, '127.0.0.1'));
  assert.is(callerAddress('127.0.0.1:51234'), '127.0.0.1');
  assert.is(callerAddress('::1:51234'), '::1');
  assert.is(callerAddress('ipv4:10.1.2.3:9'), '10.1.2.3');
});

test.run();
