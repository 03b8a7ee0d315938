// Generated CA, node and client certificates as Node's own X.509 parser sees them, and how they are written to disk.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import {
  createCa,
  issueClientCertificate,
  issueNodeCertificate,
  writeCertificateSet,
} from '../../../replication/security/certs.js';
import { rejectsCode, withTempDir } from './helpers.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const DAY = 86_400_000;

const subjectLines = (x: X509Certificate) => x.subject.split('\n').sort();

test('the CA is a self-signed P-256 CA with the given common name and validity', async () => {
  const before = Date.now();
  const ca = await createCa({ commonName: 'Test cluster CA, "eu-1"', days: 30 });
  const x = new X509Certificate(ca.certPem);
  assert.ok(x.ca, 'basicConstraints CA:TRUE');
  assert.ok(x.subject.includes('Test cluster CA'), x.subject);
  assert.is(x.issuer, x.subject);
  assert.ok(x.verify(x.publicKey), 'self-signed');
  assert.is(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  const from = Date.parse(x.validFrom);
  const to = Date.parse(x.validTo);
  assert.ok(from <= before && from > before - 10 * 60_000, `starts just before now: ${x.validFrom}`);
  assert.ok(Math.abs(to - from - 30 * DAY) < 2000, `30 days: ${x.validFrom} .. ${x.validTo}`);
  // The key is a PKCS#8 PEM Node can load, and belongs to the certificate.
  const key = createPrivateKey(ca.keyPem);
  assert.ok(x.checkPrivateKey(key));
});

test('a node certificate has CN = node id, IP and DNS SANs, the node marks, both EKUs, and is signed by the CA', async () => {
  const ca = await createCa({ commonName: 'Test CA' });
  const caX = new X509Certificate(ca.certPem);
  const node = await issueNodeCertificate(ca, { nodeId: 'nodeA', hosts: ['127.0.0.1', '::1', 'node-a.example'], days: 10 });
  assert.is(node.name, 'nodeA');
  assert.is(node.kind, 'node');
  const x = new X509Certificate(node.certPem);
  assert.equal(subjectLines(x), ['CN=nodeA', 'OU=enoki-node']);
  assert.ok(!x.ca);
  const sans = x.subjectAltName ?? '';
  for (const san of ['IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1', 'DNS:node-a.example', 'URI:enoki://node/nodeA']) {
    assert.ok(sans.includes(san), `${san} in ${sans}`);
  }
  assert.is(x.checkIP('127.0.0.1'), '127.0.0.1');
  assert.is(x.checkHost('node-a.example'), 'node-a.example');
  assert.is(x.checkHost('other.example'), undefined);
  assert.equal([...(x.keyUsage ?? [])].sort(), [SERVER_AUTH, CLIENT_AUTH].sort());
  assert.is(x.issuer, caX.subject);
  assert.ok(x.checkIssued(caX));
  assert.ok(x.verify(caX.publicKey));
  assert.ok(!x.verify(x.publicKey), 'not self-signed');
  assert.ok(Math.abs(Date.parse(x.validTo) - Date.parse(x.validFrom) - 10 * DAY) < 2000);
  assert.ok(x.checkPrivateKey(createPrivateKey(node.keyPem)));
});

test('a client certificate has CN = user, clientAuth only, the client marks and no host SANs', async () => {
  const ca = await createCa({ commonName: 'Test CA' });
  const client = await issueClientCertificate(ca, { user: 'alice' });
  assert.is(client.kind, 'client');
  const x = new X509Certificate(client.certPem);
  assert.equal(subjectLines(x), ['CN=alice', 'OU=enoki-client']);
  assert.equal(x.keyUsage, [CLIENT_AUTH]);
  assert.is(x.subjectAltName, 'URI:enoki://client/alice');
  assert.ok(x.verify(new X509Certificate(ca.certPem).publicKey));
  // Default leaf validity is about a year.
  const days = (Date.parse(x.validTo) - Date.parse(x.validFrom)) / DAY;
  assert.ok(Math.abs(days - 365) < 0.01, String(days));
});

test('serial numbers are random and positive', async () => {
  const ca = await createCa({ commonName: 'Test CA' });
  const serials = new Set<string>();
  for (let i = 0; i < 8; i++) {
    const x = new X509Certificate((await issueClientCertificate(ca, { user: `u${i}` })).certPem);
    assert.ok(x.serialNumber.length >= 30, x.serialNumber);
    assert.ok(parseInt(x.serialNumber.slice(0, 2), 16) < 0x80, x.serialNumber);
    serials.add(x.serialNumber);
  }
  serials.add(new X509Certificate(ca.certPem).serialNumber);
  assert.is(serials.size, 9);
});

test('validity can be placed in the past to make an expired certificate', async () => {
  const ca = await createCa({ commonName: 'Test CA' });
  const notBefore = new Date(Date.now() - 10 * DAY);
  const old = await issueClientCertificate(ca, { user: 'old', notBefore, days: 1 });
  const x = new X509Certificate(old.certPem);
  assert.ok(Date.parse(x.validTo) < Date.now());
  assert.is(Date.parse(x.validFrom), Math.floor(notBefore.getTime() / 1000) * 1000);
});

test('bad input is refused with ERR_CERT_INVALID_INPUT', async () => {
  const ca = await createCa({ commonName: 'Test CA', days: 10 });
  await rejectsCode(() => createCa({ commonName: '' }), 'ERR_CERT_INVALID_INPUT');
  await rejectsCode(() => createCa({ commonName: 'x', days: 0 }), 'ERR_CERT_INVALID_INPUT');
  await rejectsCode(() => issueNodeCertificate(ca, { nodeId: '../x', hosts: ['h'] }), 'ERR_CERT_INVALID_INPUT');
  await rejectsCode(() => issueNodeCertificate(ca, { nodeId: 'a', hosts: [] }), 'ERR_CERT_INVALID_INPUT', 'hosts');
  await rejectsCode(() => issueNodeCertificate(ca, { nodeId: 'a', hosts: ['bad host'], days: 1 }), 'ERR_CERT_INVALID_INPUT');
  await rejectsCode(() => issueClientCertificate(ca, { user: 'a b' }), 'ERR_CERT_INVALID_INPUT');
  // A leaf may not outlive the CA that signs it.
  await rejectsCode(() => issueClientCertificate(ca, { user: 'bob', days: 20 }), 'ERR_CERT_INVALID_INPUT', 'after the CA');
});

test('writeCertificateSet writes PEM files, keys with mode 0600', async () => {
  await withTempDir(async (root) => {
    const dir = path.join(root, 'certs');
    const ca = await createCa({ commonName: 'Test CA' });
    const node = await issueNodeCertificate(ca, { nodeId: 'n1', hosts: ['127.0.0.1'] });
    const client = await issueClientCertificate(ca, { user: 'alice' });
    const written = await writeCertificateSet(dir, { ca, certificates: [node, client] });
    assert.equal(
      written.map((f) => path.basename(f)).sort(),
      ['alice-key.pem', 'alice.pem', 'ca-key.pem', 'ca.pem', 'n1-key.pem', 'n1.pem'],
    );
    for (const name of ['ca-key.pem', 'n1-key.pem', 'alice-key.pem']) {
      assert.is((await stat(path.join(dir, name))).mode & 0o777, 0o600, name);
    }
    assert.is((await stat(path.join(dir, 'ca.pem'))).mode & 0o777, 0o644);
    assert.is((await stat(dir)).mode & 0o777, 0o700);
    assert.is(await readFile(path.join(dir, 'n1.pem'), 'utf8'), node.certPem);
    assert.is(await readFile(path.join(dir, 'alice-key.pem'), 'utf8'), client.keyPem);
  });
});

test('writeCertificateSet does not overwrite unless asked, and then keeps key modes', async () => {
  await withTempDir(async (dir) => {
    const ca = await createCa({ commonName: 'Test CA' });
    const first = await issueClientCertificate(ca, { user: 'alice' });
    const second = await issueClientCertificate(ca, { user: 'alice' });
    const other = await issueClientCertificate(ca, { user: 'bob' });
    await writeCertificateSet(dir, { ca, certificates: [first] });
    await rejectsCode(() => writeCertificateSet(dir, { certificates: [other, second] }), 'ERR_CERT_EXISTS', 'alice');
    assert.is(await readFile(path.join(dir, 'alice.pem'), 'utf8'), first.certPem);
    // Refused as a whole: bob, listed before the clash, was not written either.
    await rejectsCode(() => stat(path.join(dir, 'bob.pem')), 'ENOENT');
    await rejectsCode(() => writeCertificateSet(dir, { ca }), 'ERR_CERT_EXISTS', 'ca.pem');

    await writeFile(path.join(dir, 'alice-key.pem'), 'junk', { mode: 0o644 });
    await writeCertificateSet(dir, { certificates: [second] }, { overwrite: true });
    assert.is(await readFile(path.join(dir, 'alice.pem'), 'utf8'), second.certPem);
    assert.is(await readFile(path.join(dir, 'alice-key.pem'), 'utf8'), second.keyPem);
    assert.is((await stat(path.join(dir, 'alice-key.pem'))).mode & 0o777, 0o600);
  });
});

test('names that would collide with the CA files or another key file are refused', async () => {
  const ca = await createCa({ commonName: 'Test CA' });
  for (const name of ['ca', 'ca-key', 'alice-key']) {
    await rejectsCode(() => issueClientCertificate(ca, { user: name }), 'ERR_CERT_INVALID_INPUT', 'reserved');
    await rejectsCode(() => issueNodeCertificate(ca, { nodeId: name, hosts: ['h'] }), 'ERR_CERT_INVALID_INPUT', 'reserved');
  }
  // A hand-made set with such a name is refused by the writer too.
  const forged = { ...(await issueClientCertificate(ca, { user: 'x' })), name: 'ca' };
  await withTempDir(async (dir) => {
    await rejectsCode(() => writeCertificateSet(dir, { certificates: [forged] }), 'ERR_CERT_INVALID_INPUT', 'reserved');
  });
});

test.run();
