// `enoki certs`: creates what is missing, keeps what exists, and stops on a directory it cannot trust.
import { X509Certificate } from 'node:crypto';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { createCa, issueNodeCertificate, writeCertificateSet } from '../../../replication/security/certs.js';
import { runCertsCommand } from '../../../replication/security/certs-cli.js';
import { certificateCoversAddress, isNodeCertificate, userOf } from '../../../replication/security/policy.js';
import { rejectsCode, withTempDir } from './helpers.js';

const DAY = 86_400_000;
const read = (dir: string, file: string) => readFile(path.join(dir, file), 'utf8');

test('a first run creates the CA and every certificate; a second run changes nothing', async () => {
  await withTempDir(async (root) => {
    const dir = path.join(root, 'certs');
    const nodes = [{ id: 'nodeA', hosts: ['127.0.0.1', 'a.example'] }];
    const summary = await runCertsCommand({ dir, nodes, clients: ['alice'] });
    assert.match(summary, /CA: created/);
    assert.match(summary, /node nodeA: issued .*nodeA\.pem/);
    assert.match(summary, /client alice: issued/);
    assert.equal((await readdir(dir)).sort(), ['alice-key.pem', 'alice.pem', 'ca-key.pem', 'ca.pem', 'nodeA-key.pem', 'nodeA.pem']);
    for (const key of ['ca-key.pem', 'nodeA-key.pem', 'alice-key.pem']) {
      assert.is((await stat(path.join(dir, key))).mode & 0o777, 0o600, key);
    }
    const ca = new X509Certificate(await read(dir, 'ca.pem'));
    const node = new X509Certificate(await read(dir, 'nodeA.pem'));
    const alice = new X509Certificate(await read(dir, 'alice.pem'));
    assert.ok(node.verify(ca.publicKey) && alice.verify(ca.publicKey));
    assert.ok(isNodeCertificate(node));
    assert.is(userOf(alice), 'alice');

    const before = await Promise.all(['ca.pem', 'nodeA.pem', 'alice-key.pem'].map((f) => read(dir, f)));
    const again = await runCertsCommand({ dir, nodes, clients: ['alice'] });
    assert.match(again, /CA: using existing/);
    assert.match(again, /node nodeA: kept existing/);
    assert.match(again, /Nothing to do/);
    assert.equal(await Promise.all(['ca.pem', 'nodeA.pem', 'alice-key.pem'].map((f) => read(dir, f))), before);
  });
});

test('a later run adds new nodes with the existing CA and warns about hosts an old certificate lacks', async () => {
  await withTempDir(async (dir) => {
    await runCertsCommand({ dir, nodes: [{ id: 'nodeA', hosts: ['127.0.0.1'] }] });
    const caBefore = await read(dir, 'ca.pem');
    const summary = await runCertsCommand({
      dir,
      nodes: [
        { id: 'nodeA', hosts: ['127.0.0.1', '10.0.0.1'] },
        { id: 'nodeB', hosts: ['10.0.0.2'] },
      ],
    });
    assert.is(await read(dir, 'ca.pem'), caBefore);
    assert.match(summary, /node nodeA: warning: existing certificate lacks 10\.0\.0\.1/);
    assert.match(summary, /node nodeB: issued/);
    const nodeB = new X509Certificate(await read(dir, 'nodeB.pem'));
    assert.ok(nodeB.verify(new X509Certificate(caBefore).publicKey));
  });
});

test('stale certificates are reported: expired and soon expiring', async () => {
  await withTempDir(async (dir) => {
    const ca = await createCa({ commonName: 'Test CA' });
    const old = await issueNodeCertificate(ca, { nodeId: 'old', hosts: ['h.example'], notBefore: new Date(Date.now() - 10 * DAY), days: 1 });
    const soon = await issueNodeCertificate(ca, { nodeId: 'soon', hosts: ['h.example'], days: 5 });
    await writeCertificateSet(dir, { ca, certificates: [old, soon] });
    const summary = await runCertsCommand({ dir, nodes: [{ id: 'old', hosts: ['h.example'] }, { id: 'soon', hosts: ['h.example'] }] });
    assert.match(summary, /node old: warning: expired/);
    assert.match(summary, /node soon: warning: expires in [45] day/);
  });
});

test('a directory it cannot trust stops the command before anything is written', async () => {
  await withTempDir(async (dir) => {
    await runCertsCommand({ dir, nodes: [{ id: 'nodeA', hosts: ['127.0.0.1'] }], clients: ['alice'] });
    // A client listed as a node, and a node listed as a client.
    await rejectsCode(() => runCertsCommand({ dir, nodes: [{ id: 'alice', hosts: ['127.0.0.1'] }] }), 'ERR_CERT_MISMATCH', 'alice');
    await rejectsCode(() => runCertsCommand({ dir, clients: ['nodeA'] }), 'ERR_CERT_MISMATCH', 'nodeA');
    // Half a pair.
    await rm(path.join(dir, 'alice-key.pem'));
    await rejectsCode(() => runCertsCommand({ dir, clients: ['alice', 'bob'] }), 'ERR_CERT_MISSING', 'alice-key.pem');
    assert.ok(!(await readdir(dir)).includes('bob.pem'), 'bob was not issued by the refused run');
    // The CA gone: a new one would not match the certificates on disk.
    await rm(path.join(dir, 'ca.pem'));
    await rm(path.join(dir, 'ca-key.pem'));
    await rejectsCode(() => runCertsCommand({ dir, nodes: [{ id: 'nodeA', hosts: ['127.0.0.1'] }] }), 'ERR_CERT_MISMATCH', 'not issued by this CA');
    assert.ok(!(await readdir(dir)).includes('ca.pem'), 'no new CA was written');
  });
});

test('names are checked up front: invalid, reserved or shared between a node and a user', async () => {
  await withTempDir(async (dir) => {
    await rejectsCode(() => runCertsCommand({ dir, nodes: [{ id: 'x', hosts: ['h'] }], clients: ['x'] }), 'ERR_CERT_INVALID_INPUT', 'twice');
    await rejectsCode(() => runCertsCommand({ dir, clients: ['ca'] }), 'ERR_CERT_INVALID_INPUT', 'reserved');
    await rejectsCode(() => runCertsCommand({ dir, clients: ['../etc'] }), 'ERR_CERT_INVALID_INPUT');
    assert.equal(await readdir(dir), []);
  });
});

test("client certificates name the addresses the client connects from (FReD's client API checks them)", async () => {
  await withTempDir(async (root) => {
    const dir = path.join(root, 'certs');
    await runCertsCommand({ dir, clients: ['local', { user: 'remote', hosts: ['10.0.0.9', 'client.example'] }] });
    const local = new X509Certificate(await read(dir, 'local.pem'));
    const remote = new X509Certificate(await read(dir, 'remote.pem'));
    // Without hosts: the loopback addresses, as FReD's own certificate script gives every certificate.
    assert.ok(certificateCoversAddress(local, '127.0.0.1'));
    assert.not.ok(certificateCoversAddress(local, '10.0.0.9'));
    assert.ok(certificateCoversAddress(remote, '10.0.0.9'));
    assert.not.ok(certificateCoversAddress(remote, '127.0.0.1'));
    assert.match(remote.subjectAltName ?? '', /DNS:client\.example/);
    assert.is(userOf(remote), 'remote');
    // An existing certificate lacking a requested address is kept, with a warning.
    const again = await runCertsCommand({ dir, clients: [{ user: 'local', hosts: ['10.0.0.7'] }] });
    assert.match(again, /client local: warning: existing certificate lacks 10\.0\.0\.7/);
  });
});

test.run();
