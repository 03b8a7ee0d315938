// The composition root: readiness only once the start's work is done, a start that fails part-way
// gives back its port and its LevelDB lock, and expired items are purged on a schedule.

import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { runCertsCommand } from '../../replication/security/certs-cli.js';
import { LevelReplicaStore } from '../../replication/store/level-store.js';
import { loadConfig, type NodeConfig } from '../../runtime/config.js';
import { startNode, type StartOptions } from '../../runtime/node.js';
import { guest, TOKEN } from '../helpers/test-node.js';
import { startEtcd, type TestEtcd } from '../support/etcd.js';

const test = suite<{ root: string }>('node: start, readiness, cleanup');
test.before.each(async (ctx) => {
  ctx.root = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-node-'));
});
test.after.each(async (ctx) => {
  await fs.rm(ctx.root, { recursive: true, force: true });
});

const start = (dataDir: string, overrides: Partial<NodeConfig> = {}, options: StartOptions = {}) =>
  startNode(loadConfig({ port: 0, host: '127.0.0.1', dataDir, adminToken: TOKEN, workers: 1, prewarm: false, ...overrides }, {}), pino({ level: 'silent' }), options);

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('readyz answers 503 until the start-up work is done; healthz answers throughout', async ({ root }) => {
  const port = await freePort();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const starting = start(root, { port }, { startup: () => gate });
  const url = `http://127.0.0.1:${port}`;
  let ready: Response | undefined;
  for (let i = 0; i < 300; i++) {
    ready = await fetch(`${url}/readyz`).catch(() => undefined);
    if (ready) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.is(ready?.status, 503);
  assert.equal(((await ready!.json()) as { waitingFor: string[] }).waitingFor, ['startup']);
  assert.is((await fetch(`${url}/healthz`)).status, 200);
  release();
  const node = await starting;
  const after = await fetch(`${url}/readyz`);
  assert.is(after.status, 200);
  assert.is(((await after.json()) as { status: string }).status, 'ready');
  await node.close();
});

test('a start-up task that fails stops the node: its port and data directory are free again', async ({ root }) => {
  const port = await freePort();
  try {
    await start(root, { port }, { startup: async () => Promise.reject(new Error('examples missing')) });
    assert.unreachable('the start succeeded');
  } catch (err) {
    assert.match((err as Error).message, /examples missing/);
  }
  // The port can be bound, and the LevelDB lock is released: the same directory starts again.
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  await new Promise((resolve) => server.close(resolve));
  const node = await start(root, { port });
  assert.is((await fetch(`${node.url}/readyz`)).status, 200);
  await node.close();
});

test('a start that fails on a taken port releases its LevelDB lock', async ({ root }) => {
  const first = await start(path.join(root, 'a'));
  try {
    await start(path.join(root, 'b'), { port: first.port });
    assert.unreachable('two nodes on one port');
  } catch (err) {
    assert.is((err as NodeJS.ErrnoException).code, 'EADDRINUSE');
  }
  const second = await start(path.join(root, 'b'));
  assert.is((await fetch(`${second.url}/healthz`)).status, 200);
  await second.close();
  await first.close();
});

test("a guest's trap is in the node's own log with the function and the code", async ({ root }) => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const node = await startNode(loadConfig({ port: 0, host: '127.0.0.1', dataDir: root, adminToken: TOKEN, workers: 1, prewarm: false }, {}), logger);
  try {
    await node.functions.deploy('misbehave', await guest('fixtures/misbehave.wasm'));
    const res = await fetch(`${node.url}/fn/misbehave/trap`);
    assert.is(res.status, 500);
    const id = res.headers.get('x-enoki-invocation-id') ?? ((await res.json()) as { error: { invocationId: string } }).error.invocationId;
    const logged = lines.find((l) => l.invocationId === id);
    assert.ok(logged, 'the trap is logged');
    assert.equal([logged!.level, logged!.fn, logged!.code], [40, 'misbehave', 'ERR_GUEST_TRAP']);
    // A guest's own err result is its business: not in the node's log at info.
    const err = await fetch(`${node.url}/fn/misbehave/err`);
    const errId = ((await err.json()) as { error: { invocationId: string } }).error.invocationId;
    assert.not.ok(lines.some((l) => l.invocationId === errId));
  } finally {
    await node.close();
  }
});

test('expired items are purged from disk on a schedule', async ({ root }) => {
  // An item written "an hour ago" into a keygroup whose items expire after a second.
  const location = path.join(root, 'replica');
  const past = new LevelReplicaStore({ location, nodeId: 'n1', clock: () => Date.now() - 3_600_000 });
  await past.open();
  await past.createKeygroup({ name: 'kg', mutable: true, expiry: 1 });
  await past.applyLocal([{ kind: 'set', keygroup: 'kg', id: 'old', value: 'v' }]);
  await past.close();

  const node = await start(root, { nodeId: 'n1', purgeIntervalMs: 50 });
  let purged = 0;
  for (let i = 0; i < 400 && purged === 0; i++) {
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    purged = Number(/^enoki_expired_items_purged (\d+)/m.exec(metrics)?.[1] ?? 0);
    if (purged === 0) await new Promise((r) => setTimeout(r, 25));
  }
  await node.close();
  assert.is(purged, 1);
  const store = new LevelReplicaStore({ location, nodeId: 'n1' });
  await store.open();
  assert.is(await store.purgeExpired(), 0, 'nothing left to purge');
  await store.close();
});

test.run();

const cluster = suite<{ root: string; etcd: TestEtcd }>('node: a cluster start that fails part-way');
cluster.before(async (ctx) => {
  ctx.root = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-node-cluster-'));
  await runCertsCommand({ dir: path.join(ctx.root, 'certs'), nodes: [{ id: 'edge1', hosts: ['127.0.0.1'] }] });
  ctx.etcd = await startEtcd();
});
cluster.after(async (ctx) => {
  await ctx.etcd?.stop();
  await fs.rm(ctx.root, { recursive: true, force: true });
});

cluster('a taken client API port fails the start; the peering port, the outbox and the replica are free again', async ({ root, etcd }) => {
  const peeringPort = await freePort();
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '0.0.0.0', resolve));
  const taken = (blocker.address() as net.AddressInfo).port;
  const clusterConfig = (clientApiPort: number) => ({
    etcd: [etcd.endpoint],
    certsDir: path.join(root, 'certs'),
    peeringPort,
    clientApiPort,
    advertiseHost: '127.0.0.1',
    replicationMode: 'sync' as const,
    antiEntropySeconds: 30,
  });
  const dataDir = path.join(root, 'edge1');
  try {
    await start(dataDir, { nodeId: 'edge1', cluster: clusterConfig(taken) });
    assert.unreachable('started on a taken port');
  } catch (err) {
    assert.match(String((err as Error).message), /EADDRINUSE|address already in use|No address added/i);
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
  // Same data directory (replica and outbox LevelDB locks) and same peering port.
  const node = await start(dataDir, { nodeId: 'edge1', cluster: clusterConfig(0) });
  assert.is(node.cluster?.peeringPort, peeringPort);
  assert.is((await fetch(`${node.url}/readyz`)).status, 200);
  await node.close();
});

cluster.run();
