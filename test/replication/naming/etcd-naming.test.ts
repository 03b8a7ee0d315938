// EtcdNaming against a real etcd: the shared conformance suite, then watch, outage, interop and TLS.
import { Etcd3 } from 'etcd3';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { EtcdNaming, type EtcdNamingOptions } from '../../../replication/naming/etcd-naming.js';
import type { NamingChange } from '../../../replication/naming/port.js';
import { startEtcd, type TestEtcd } from '../../support/etcd.js';
import { runNamingConformance } from './conformance.js';
import { NODE_A, NODE_B, eventually, rejects } from './helpers.js';
import { registerTlsTests } from './etcd-tls.js';

// One etcd for the conformance suite (emptied before each test); destructive tests start their own.
let shared: TestEtcd | undefined;
let sharedStart: Promise<TestEtcd> | undefined;
const sharedEtcd = () => (sharedStart ??= startEtcd().then((e) => (shared = e)));

async function open(endpoint: string, extra: Partial<EtcdNamingOptions> = {}): Promise<EtcdNaming> {
  const naming = new EtcdNaming({ endpoints: [endpoint], requestTimeoutMs: 2000, ...extra });
  await naming.start();
  return naming;
}

runNamingConformance('EtcdNaming', async () => {
  const etcd = await sharedEtcd();
  const raw = new Etcd3({ hosts: etcd.endpoint });
  await raw.delete().all();
  const naming = await open(etcd.endpoint);
  const peer = await open(etcd.endpoint);
  return {
    naming,
    peer,
    raw: () => raw.getAll().strings(),
    cleanup: async () => {
      await Promise.all([naming.close(), peer.close()]);
      raw.close();
    },
  };
});

const test = suite<{ etcd: TestEtcd; raw: Etcd3; open: EtcdNaming[] }>('EtcdNaming on a real etcd');
test.before(async (ctx) => {
  ctx.etcd = await sharedEtcd();
  ctx.raw = new Etcd3({ hosts: ctx.etcd.endpoint });
});
test.before.each(async (ctx) => {
  await ctx.raw.delete().all();
  ctx.open = [];
});
test.after.each(async (ctx) => {
  await Promise.all(ctx.open.map((n) => n.close()));
});
test.after(async (ctx) => {
  ctx.raw?.close();
  await shared?.stop();
});
const track = (ctx: { open: EtcdNaming[] }, n: EtcdNaming) => (ctx.open.push(n), n);

test('a second node sees the first one\'s changes through its watch within a bounded time', async (ctx) => {
  const a = track(ctx, await open(ctx.etcd.endpoint));
  const b = track(ctx, await open(ctx.etcd.endpoint));
  const seen: NamingChange[] = [];
  b.subscribe((c) => seen.push(c));
  await a.registerNode(NODE_A);
  await a.registerNode(NODE_B);
  const t0 = Date.now();
  await a.createKeygroup({ name: 'kg', mutable: true, expiry: 0, node: 'A', owner: 'alice' });
  await a.addReplica('kg', 'B', 10);
  await eventually(async () => assert.equal((await b.getKeygroup('kg'))?.replicas.length, 2), 1000);
  const latency = Date.now() - t0;
  assert.ok(latency < 1000, `took ${latency} ms`);
  assert.is(await b.isAllowed('alice', 'kg', 'AddUser'), true);
  assert.ok(seen.some((c) => c.kind === 'replica' && c.node === 'B'));
  // ... and the other way round.
  await b.revokeRole('alice', 'kg', 'ConfigureKeygroups');
  await eventually(async () => assert.is(await a.isAllowed('alice', 'kg', 'AddUser'), false), 1000);
});

test('keys written by a FReD node are understood; unrelated keys are ignored and untouched', async (ctx) => {
  const a = track(ctx, await open(ctx.etcd.endpoint));
  // Exactly what FReD's etcdnase writes for CreateKeygroup + addRoles + RegisterSelf.
  const fred: Record<string, string> = {
    'node|fred1|address': '10.0.0.9:5555',
    'node|fred1|extaddress': '10.0.0.9:9001',
    'kg|fredkg|mutable': 'false',
    'kg|fredkg|expiry|node|fred1': '60',
    'kg|fredkg|status': 'created',
    'kg|fredkg|node|fred1': 'ok',
    'user|bob|kg|fredkg|method|Read': 'ok',
    'failnode|fred1|kg|fredkg|42': '1',
  };
  const unrelated = { foo: 'bar', 'kg|x': 'y', 'node|n|status': 'up', 'kgx|a|status': 'created', 'user|u|kg|k|method': 'ok' };
  for (const [k, v] of Object.entries({ ...fred, ...unrelated })) await ctx.raw.put(k).value(v);
  await eventually(async () => assert.ok(await a.getKeygroup('fredkg')));
  assert.equal(await a.getKeygroup('fredkg'), { name: 'fredkg', mutable: false, replicas: [{ node: 'fred1', expiry: 60 }] });
  assert.equal(await a.getNode('fred1'), { id: 'fred1', address: '10.0.0.9:5555', extAddress: '10.0.0.9:9001' });
  assert.equal(await a.getPermissions('bob', 'fredkg'), ['Read']);
  assert.equal(await a.listMissed('fred1'), [{ node: 'fred1', keygroup: 'fredkg', id: '42' }]);
  assert.equal(a.snapshot(), Object.fromEntries(Object.entries(fred).sort(([x], [y]) => (x < y ? -1 : 1))));
  await rejects(() => a.createKeygroup({ name: 'fredkg', mutable: true, expiry: 0, node: 'A' }), 'ERR_KEYGROUP_EXISTS');
  await a.registerNode(NODE_A);
  await a.addReplica('fredkg', 'A', 0);
  const raw = await ctx.raw.getAll().strings();
  for (const [k, v] of Object.entries(unrelated)) assert.is(raw[k], v);
  assert.is(raw['kg|fredkg|node|A'], 'ok');
});

test('a new instance loads existing state with its first read', async (ctx) => {
  const a = track(ctx, await open(ctx.etcd.endpoint));
  await a.registerNode(NODE_A);
  await a.createKeygroup({ name: 'kg', mutable: true, expiry: 5, node: 'A' });
  await a.reportMissed({ node: 'A', keygroup: 'kg', id: 'x' });
  const late = track(ctx, await open(ctx.etcd.endpoint));
  assert.equal(late.snapshot(), a.snapshot());
  assert.equal((await late.getKeygroup('kg'))?.replicas, [{ node: 'A', expiry: 5 }]);
});

test('a recreate with more leftovers than one transaction may hold is split, cleanup first', async (ctx) => {
  const a = track(ctx, await open(ctx.etcd.endpoint, { maxTxnOps: 20 }));
  await a.createKeygroup({ name: 'kg', mutable: true, expiry: 0, node: 'A' });
  for (let i = 0; i < 15; i++) await a.grantRole(`user${i}`, 'kg', 'ConfigureReplica'); // 45 grant keys
  await a.deleteKeygroup('kg');
  await a.createKeygroup({ name: 'kg', mutable: true, expiry: 0, node: 'A', owner: 'owner' });
  const raw = await ctx.raw.getAll().prefix('user|').keys();
  assert.equal(raw.sort(), Object.keys(a.snapshot()).filter((k) => k.startsWith('user|')).sort());
  assert.ok(raw.every((k) => k.startsWith('user|owner|')), raw.join(', '));
  assert.is(raw.length, 12);
});

test('etcd down: reads answer from the cache, writes fail with ERR_NAMING_UNAVAILABLE; back up: re-synced', async (ctx) => {
  const etcd = await startEtcd();
  try {
    const opts = { requestTimeoutMs: 1000, retryDelayMs: { min: 50, max: 300 } };
    const a = track(ctx, await open(etcd.endpoint, opts));
    const b = track(ctx, await open(etcd.endpoint, opts));
    await a.registerNode(NODE_A);
    await a.registerNode(NODE_B);
    await a.createKeygroup({ name: 'kg', mutable: true, expiry: 0, node: 'A', owner: 'alice' });
    await a.addReplica('kg', 'B', 30);
    await a.reportMissed({ node: 'B', keygroup: 'kg', id: 'x' });
    await eventually(async () => assert.is((await b.listMissed('B')).length, 1));

    await etcd.kill();
    await eventually(() => assert.is(a.connected, false));
    assert.equal((await a.getKeygroup('kg'))?.replicas, [{ node: 'A', expiry: 0 }, { node: 'B', expiry: 30 }]);
    assert.is(await a.isAllowed('alice', 'kg', 'Update'), true);
    assert.equal(await a.getNode('B'), NODE_B);
    assert.equal((await b.listMissed('B')).map((m) => m.id), ['x']);
    const t0 = Date.now();
    await rejects(() => a.addReplica('kg', 'B', 1), 'ERR_NAMING_UNAVAILABLE');
    await rejects(() => b.createKeygroup({ name: 'other', mutable: true, expiry: 0, node: 'B' }), 'ERR_NAMING_UNAVAILABLE');
    await rejects(() => a.grantRole('bob', 'kg', 'ReadKeygroup'), 'ERR_NAMING_UNAVAILABLE');
    assert.ok(Date.now() - t0 < 3 * 1000 + 1500, `writes took ${Date.now() - t0} ms to fail`);

    const seen: NamingChange[] = [];
    a.subscribe((c) => seen.push(c));
    await etcd.restart();
    // Written as soon as etcd is back, possibly before `a` has reconnected: the re-sync must catch it.
    const other = new Etcd3({ hosts: etcd.endpoint });
    try {
      await other.put('user|carol|kg|kg|method|Read').value('ok');
    } finally {
      other.close();
    }
    await eventually(() => assert.is(a.connected, true), 5000);
    await eventually(async () => assert.is(await a.isAllowed('carol', 'kg', 'Read'), true), 5000);
    assert.ok(seen.some((c) => c.kind === 'permission' && c.user === 'carol'));
    await b.addReplica('kg', 'B', 1);
    await eventually(async () => assert.equal((await a.getKeygroup('kg'))?.replicas[1], { node: 'B', expiry: 1 }));
    await a.clearMissed({ node: 'B', keygroup: 'kg', id: 'x' });
  } finally {
    await Promise.all(ctx.open.splice(0).map((n) => n.close()));
    await etcd.stop();
  }
});

test('start fails with ERR_NAMING_UNAVAILABLE when etcd cannot be reached', async () => {
  const etcd = await startEtcd();
  const endpoint = etcd.endpoint;
  await etcd.stop();
  const naming = new EtcdNaming({ endpoints: [endpoint], requestTimeoutMs: 500 });
  const t0 = Date.now();
  try {
    await rejects(() => naming.start(), 'ERR_NAMING_UNAVAILABLE');
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
  } finally {
    await naming.close();
  }
});

registerTlsTests(test);

test.run();
