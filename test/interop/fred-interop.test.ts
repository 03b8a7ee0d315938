// Interoperability with a real FReD node (v0.2.19): etcd, a FReD node and an Enoki node on
// loopback with one CA share keygroups in both directions, with the same versions, siblings after
// concurrent writes, and deletes. FReD is built from its source snapshots by the build script
// beside the project (fred-binaries.ts); only where that script does not exist at all is the
// test skipped, saying why: it cannot pass or fail without a FReD node.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { clientService } from '../../replication/grpc/protos.js';
import { runCertsCommand } from '../../replication/security/certs-cli.js';
import { clientCredentials } from '../../replication/security/policy.js';
import { loadConfig } from '../../runtime/config.js';
import { startNode, type RunningNode } from '../../runtime/node.js';
import { startEtcd, type TestEtcd } from '../support/etcd.js';
import { obtainFred } from './fred-binaries.js';

const fred = obtainFred();
const test = suite('interop with a real FReD node');

type Call = (method: string, request: object) => Promise<Record<string, unknown>>;
type Item = { id: string; val: string; version: { version: Record<string, string> } };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

async function fredClient(address: string, certs: string): Promise<{ call: Call; close(): void }> {
  const Client = grpc.makeGenericClientConstructor(clientService, 'Client');
  // The tester's client certificate carries IP SAN 127.0.0.1, which FReD's client API requires.
  const client = new Client(address, await clientCredentials(certs, 'tester', { allowNonNodeServer: true }));
  const call: Call = (method, request) =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, Function>)[method].bind(client);
      fn(request, { deadline: Date.now() + 10_000 }, (err: Error | null, res: Record<string, unknown>) => (err ? reject(err) : resolve(res)));
    });
  return { call, close: () => client.close() };
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

const versionsOf = (items: Item[]) => items.map((i) => JSON.stringify(Object.entries(i.version.version).sort())).sort();

if ('unavailable' in fred) {
  // No FReD build script, no interoperability to check: say so loudly rather than pass silently.
  test.skip('FReD and Enoki share keygroups in both directions', () => undefined);
  process.stdout.write(`\nSKIPPED: FReD interoperability — ${fred.unavailable}\n`);
} else {
  const binary = fred.binaries.frednode;
  const ctx: { root?: string; etcd?: TestEtcd; fred?: ChildProcess; enoki?: RunningNode; toFred?: { call: Call; close(): void }; toEnoki?: { call: Call; close(): void } } = {};

  test.before(async () => {
    const root = (ctx.root = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-interop-')));
    const certs = path.join(root, 'certs');
    const loopback = ['127.0.0.1', 'localhost'];
    await runCertsCommand({ dir: certs, nodes: ['etcd', 'fred1', 'edge1'].map((id) => ({ id, hosts: loopback })), clients: ['tester'] });
    const pem = (name: string) => path.join(certs, `${name}.pem`);
    const key = (name: string) => path.join(certs, `${name}-key.pem`);
    ctx.etcd = await startEtcd({ tls: { certFile: pem('etcd'), keyFile: key('etcd'), caFile: pem('ca') } });
    const [fredClientPort, fredPeerPort] = [await freePort(), await freePort()];
    ctx.fred = spawn(
      binary,
      [
        '--nodeID', 'fred1', '--adaptor', 'memory', '--log-level', 'warn', '--handler', 'prod',
        '--host', `127.0.0.1:${fredClientPort}`, '--advertise-host', `127.0.0.1:${fredClientPort}`,
        '--peer-host', `127.0.0.1:${fredPeerPort}`, '--peer-advertise-host', `127.0.0.1:${fredPeerPort}`,
        '--cert', pem('fred1'), '--key', key('fred1'), '--ca-file', pem('ca'),
        '--peer-cert', pem('fred1'), '--peer-key', key('fred1'), '--peer-ca', pem('ca'),
        '--trigger-cert', pem('fred1'), '--trigger-key', key('fred1'), '--trigger-ca', pem('ca'),
        '--nase-host', ctx.etcd.endpoint.replace(/^https?:\/\//, ''),
        '--nase-cert', pem('fred1'), '--nase-key', key('fred1'), '--nase-ca', pem('ca'),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    ctx.enoki = await startNode(
      loadConfig(
        {
          port: 0, host: '127.0.0.1', dataDir: path.join(root, 'edge1'), adminToken: 't', nodeId: 'edge1',
          cluster: { etcd: [ctx.etcd.endpoint], certsDir: certs, peeringPort: 0, clientApiPort: 0, advertiseHost: '127.0.0.1', replicationMode: 'sync', antiEntropySeconds: 5 },
        },
        {},
      ),
      pino({ level: 'warn' }),
    );
    ctx.toFred = await fredClient(`127.0.0.1:${fredClientPort}`, certs);
    ctx.toEnoki = await fredClient(`127.0.0.1:${ctx.enoki.cluster!.clientApiPort}`, certs);
    await eventually('the FReD node to answer', () => ctx.toFred!.call('GetAllReplica', {}));
  });

  test.after(async () => {
    ctx.toFred?.close();
    ctx.toEnoki?.close();
    await ctx.enoki?.close();
    ctx.fred?.kill('SIGKILL');
    await ctx.etcd?.stop();
    if (ctx.root) await fs.rm(ctx.root, { recursive: true, force: true });
  });

  const read = async (c: Call, keygroup: string, id: string) => ((await c('Read', { keygroup, id })).data as Item[]) ?? [];

  test('a keygroup created on FReD is replicated to Enoki, with the same versions both ways', async () => {
    const fred = ctx.toFred!.call;
    const enoki = ctx.toEnoki!.call;
    await fred('CreateKeygroup', { keygroup: 'fromfred', mutable: true, expiry: 0 });
    await fred('AddReplica', { keygroup: 'fromfred', nodeId: 'edge1', expiry: 0 });
    const written = await fred('Update', { keygroup: 'fromfred', id: 'a', data: 'from-fred' });
    const onEnoki = await eventually('FReD write on Enoki', async () => {
      const items = await read(enoki, 'fromfred', 'a');
      return items.length > 0 ? items : undefined;
    });
    assert.is(onEnoki[0].val, 'from-fred');
    assert.equal(onEnoki[0].version.version, (written.version as { version: Record<string, string> }).version);

    await enoki('Update', { keygroup: 'fromfred', id: 'b', data: 'from-enoki' });
    const onFred = await eventually('Enoki write on FReD', async () => {
      const items = await read(fred, 'fromfred', 'b');
      return items.length > 0 ? items : undefined;
    });
    assert.is(onFred[0].val, 'from-enoki');
    assert.equal(versionsOf(onFred), versionsOf(await read(enoki, 'fromfred', 'b')));
  });

  test('concurrent writes on both become siblings on both; deletes replicate', async () => {
    const fred = ctx.toFred!.call;
    const enoki = ctx.toEnoki!.call;
    const base = (await read(fred, 'fromfred', 'a'))[0].version;
    // Both extend the same version: whatever the order of arrival, the results are concurrent.
    const results = await Promise.allSettled([
      fred('Update', { keygroup: 'fromfred', id: 'a', data: 'fred-side', versions: [base] }),
      enoki('Update', { keygroup: 'fromfred', id: 'a', data: 'enoki-side', versions: [base] }),
    ]);
    const succeeded = results.filter((r) => r.status === 'fulfilled').length;
    const both = await eventually('identical sibling sets', async () => {
      const [f, e] = [await read(fred, 'fromfred', 'a'), await read(enoki, 'fromfred', 'a')];
      return f.length === succeeded && JSON.stringify(versionsOf(f)) === JSON.stringify(versionsOf(e)) ? f : undefined;
    });
    assert.is(both.length, succeeded);

    await enoki('Delete', { keygroup: 'fromfred', id: 'b' });
    await eventually('the delete on FReD', async () => ((await read(fred, 'fromfred', 'b').catch(() => [])).length === 0 ? true : undefined));
  });

  test('a keygroup created on Enoki is replicated to FReD', async () => {
    const fred = ctx.toFred!.call;
    const enoki = ctx.toEnoki!.call;
    await enoki('CreateKeygroup', { keygroup: 'fromenoki', mutable: true, expiry: 0 });
    await enoki('AddReplica', { keygroup: 'fromenoki', nodeId: 'fred1', expiry: 0 });
    await enoki('Update', { keygroup: 'fromenoki', id: 'x', data: 'hello' });
    const items = await eventually('Enoki keygroup on FReD', async () => {
      const found = await read(fred, 'fromenoki', 'x');
      return found.length > 0 ? found : undefined;
    });
    assert.is(items[0].val, 'hello');
  });
}

test.run();
