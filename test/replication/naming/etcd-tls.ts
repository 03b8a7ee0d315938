// EtcdNaming over mutual TLS, as FReD runs etcd: a test etcd that requires cluster-CA client certificates.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { EtcdNaming } from '../../../replication/naming/etcd-naming.js';
import { createCa, issueNodeCertificate } from '../../../replication/security/certs.js';
import { startEtcd } from '../../support/etcd.js';
import { NODE_A, rejects } from './helpers.js';

export function registerTlsTests(test: Test<{ open: EtcdNaming[] }>): void {
  test('over mutual TLS: works with the cluster CA and a client certificate, refused without', async (ctx) => {
    const pki = await makePki();
    const f = (name: string) => path.join(pki.dir, name);
    const etcd = await startEtcd({ tls: { certFile: f('server.crt'), keyFile: f('server.key'), caFile: f('ca.crt') } });
    try {
      assert.ok(etcd.endpoint.startsWith('https://'));
      const naming = new EtcdNaming({ endpoints: [etcd.endpoint], requestTimeoutMs: 2000, tls: { ca: pki.ca, ...pki.client } });
      ctx.open.push(naming);
      await naming.start();
      await naming.registerNode(NODE_A);
      await naming.createKeygroup({ name: 'secure', mutable: true, expiry: 0, node: 'A', owner: 'A' });
      assert.equal((await naming.getKeygroup('secure'))?.replicas, [{ node: 'A', expiry: 0 }]);

      for (const tls of [{ ca: pki.ca }, { ca: pki.otherCa, ...pki.client }]) {
        const refused = new EtcdNaming({ endpoints: [etcd.endpoint], requestTimeoutMs: 1000, tls });
        try {
          await rejects(() => refused.start(), 'ERR_NAMING_UNAVAILABLE');
        } finally {
          await refused.close();
        }
      }
      assert.throws(() => new EtcdNaming({ endpoints: [etcd.endpoint], tls: { ca: pki.ca, cert: pki.client.cert } }));
    } finally {
      await Promise.all(ctx.open.splice(0).map((n) => n.close()));
      await etcd.stop();
      rmSync(pki.dir, { recursive: true, force: true });
    }
  });
}

/** Certificates from the project's own tooling: node certificates are what a node gives etcd. */
async function makePki(): Promise<Pki> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'enoki-pki-'));
  const ca = await createCa({ commonName: 'enoki-test-ca' });
  const otherCa = await createCa({ commonName: 'someone-else' });
  const server = await issueNodeCertificate(ca, { nodeId: 'etcd', hosts: ['127.0.0.1'] });
  const client = await issueNodeCertificate(ca, { nodeId: 'A', hosts: ['127.0.0.1'] });
  const files = { 'ca.crt': ca.certPem, 'server.crt': server.certPem, 'server.key': server.keyPem };
  for (const [name, pem] of Object.entries(files)) writeFileSync(path.join(dir, name), pem, { mode: 0o600 });
  return { dir, ca: ca.certPem, client: { cert: client.certPem, key: client.keyPem }, otherCa: otherCa.certPem };
}

interface Pki {
  dir: string;
  ca: string;
  client: { cert: string; key: string };
  /** A CA that signed nothing etcd trusts. */
  otherCa: string;
}
