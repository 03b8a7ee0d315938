// The NamingService contract as one uvu suite; every implementation runs it through a factory.
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { CALL_PERMISSION, ROLES, ROLE_METHODS, type NamingChange, type NamingService } from '../../../replication/naming/port.js';
import { registerAccessTests } from './conformance-access.js';
import { NODE_A, NODE_B, eventually, rejects, type NamingFactory, type NamingHarness } from './helpers.js';

export type { NamingFactory, NamingHarness } from './helpers.js';

export function runNamingConformance(name: string, factory: NamingFactory): void {
  const test = suite<{ h: NamingHarness; a: NamingService; b: NamingService }>(`${name} conformance`);
  test.before.each(async (ctx) => {
    ctx.h = await factory();
    ctx.a = ctx.h.naming;
    ctx.b = ctx.h.peer;
    await ctx.a.registerNode(NODE_A);
    await ctx.a.registerNode(NODE_B);
  });
  test.after.each(async (ctx) => {
    const h = ctx.h as NamingHarness | undefined;
    ctx.h = undefined as never; // a failing factory next time must not clean this one up twice
    await h?.cleanup();
  });

  test('nodes are registered under FReD keys and listed by id', async ({ h, a }) => {
    assert.equal(await a.getNode('A'), NODE_A);
    assert.equal(await a.listNodes(), [NODE_A, NODE_B]);
    assert.is(await a.getNode('nope'), undefined);
    await a.registerNode({ id: 'A', address: '127.0.0.1:6001', extAddress: '127.0.0.1:7001' });
    assert.equal(await a.getNode('A'), { id: 'A', address: '127.0.0.1:6001', extAddress: '127.0.0.1:7001' });
    assert.equal(await h.raw(), {
      'node|A|address': '127.0.0.1:6001',
      'node|A|extaddress': '127.0.0.1:7001',
      'node|B|address': NODE_B.address,
      'node|B|extaddress': NODE_B.extAddress,
    });
    await rejects(() => a.registerNode({ id: 'x|y', address: 'h:1', extAddress: 'h:2' }), 'ERR_INVALID_NAME');
    await rejects(() => a.registerNode({ id: 'C', address: '', extAddress: 'h:2' }), 'ERR_INVALID_ARGUMENT');
  });

  test('a created keygroup has its creator as replica and writes exactly FReD keys', async ({ h, a }) => {
    await a.createKeygroup({ name: 'kg1', mutable: false, expiry: 30, node: 'A', owner: 'alice' });
    assert.equal(await a.getKeygroup('kg1'), { name: 'kg1', mutable: false, replicas: [{ node: 'A', expiry: 30 }] });
    const raw = await h.raw();
    const expected: Record<string, string> = {
      'kg|kg1|status': 'created',
      'kg|kg1|mutable': 'false',
      'kg|kg1|expiry|node|A': '30',
      'kg|kg1|node|A': 'ok',
    };
    for (const method of Object.values(ROLE_METHODS).flat()) expected[`user|alice|kg|kg1|method|${method}`] = 'ok';
    for (const key of Object.keys(raw)) if (key.startsWith('node|')) delete raw[key];
    assert.equal(raw, expected);
  });

  test('creating an existing keygroup fails with ERR_KEYGROUP_EXISTS and changes nothing', async ({ h, a, b }) => {
    await a.createKeygroup({ name: 'kg', mutable: true, expiry: 0, node: 'A' });
    const before = await h.raw();
    await rejects(() => a.createKeygroup({ name: 'kg', mutable: false, expiry: 9, node: 'A' }), 'ERR_KEYGROUP_EXISTS');
    await eventually(async () => assert.ok(await b.getKeygroup('kg')));
    await rejects(() => b.createKeygroup({ name: 'kg', mutable: false, expiry: 9, node: 'B' }), 'ERR_KEYGROUP_EXISTS');
    assert.equal(await h.raw(), before);
    assert.equal(await a.getKeygroup('kg'), { name: 'kg', mutable: true, replicas: [{ node: 'A', expiry: 0 }] });
  });

  test('names and arguments are validated before anything is written', async ({ h, a }) => {
    const before = await h.raw();
    for (const name of ['', 'a-b', 'a|b', 'ä']) {
      await rejects(() => a.createKeygroup({ name, mutable: true, expiry: 0, node: 'A' }), 'ERR_INVALID_NAME');
    }
    await rejects(() => a.createKeygroup({ name: 'ok', mutable: true, expiry: -1, node: 'A' }), 'ERR_INVALID_ARGUMENT');
    await rejects(() => a.createKeygroup({ name: 'ok', mutable: true, expiry: 1.5, node: 'A' }), 'ERR_INVALID_ARGUMENT');
    await rejects(() => a.createKeygroup({ name: 'ok', mutable: true, expiry: 0, node: '' }), 'ERR_INVALID_NAME');
    await rejects(() => a.reportMissed({ node: 'B', keygroup: 'ok', id: 'a/b' }), 'ERR_INVALID_NAME');
    assert.equal(await h.raw(), before);
  });

  test('deleting marks the keygroup deleted, keeps its members, and it can be created again fresh', async ({ h, a }) => {
    await a.createKeygroup({ name: 'kg', mutable: true, expiry: 0, node: 'A', owner: 'alice' });
    await a.addReplica('kg', 'B', 5);
    await a.grantRole('bob', 'kg', 'ReadKeygroup');
    await a.deleteKeygroup('kg');
    assert.is(await a.getKeygroup('kg'), undefined);
    assert.equal(await a.listKeygroups(), []);
    const raw = await h.raw();
    assert.is(raw['kg|kg|status'], 'deleted');
    assert.is(raw['kg|kg|node|B'], 'ok'); // members learn of the deletion through their own entries
    assert.is(await a.isAllowed('bob', 'kg', 'Read'), false);
    await rejects(() => a.deleteKeygroup('kg'), 'ERR_KEYGROUP_NOT_FOUND');
    await rejects(() => a.deleteKeygroup('never'), 'ERR_KEYGROUP_NOT_FOUND');

    await a.createKeygroup({ name: 'kg', mutable: false, expiry: 7, node: 'B', owner: 'carol' });
    assert.equal(await a.getKeygroup('kg'), { name: 'kg', mutable: false, replicas: [{ node: 'B', expiry: 7 }] });
    assert.is(await a.isAllowed('bob', 'kg', 'Read'), false, 'grants of the old keygroup must not carry over');
    assert.is(await a.isAllowed('alice', 'kg', 'DeleteKeygroup'), false);
    assert.is(await a.isAllowed('carol', 'kg', 'DeleteKeygroup'), true);
    const after = await h.raw();
    assert.is(after['kg|kg|node|A'], undefined);
    assert.not.ok(Object.keys(after).some((k) => k.startsWith('user|bob|') || k.startsWith('user|alice|')));
  });

  test('concurrent creates of one keygroup from two nodes: exactly one succeeds', async ({ a, b }) => {
    for (let i = 0; i < 8; i++) {
      const name = `race${i}`;
      const results = await Promise.allSettled([
        a.createKeygroup({ name, mutable: true, expiry: 0, node: 'A' }),
        b.createKeygroup({ name, mutable: true, expiry: 0, node: 'B' }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.is(won.length, 1, `${name}: ${JSON.stringify(results.map((r) => r.status))}`);
      assert.is(lost[0]!.reason.code, 'ERR_KEYGROUP_EXISTS');
      const winner = results[0]!.status === 'fulfilled' ? 'A' : 'B';
      const view = await a.getKeygroup(name);
      assert.equal(view?.replicas, [{ node: winner, expiry: 0 }]);
    }
  });

  test('many concurrent creates on one instance: exactly one succeeds', async ({ a }) => {
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => a.createKeygroup({ name: 'same', mutable: i % 2 === 0, expiry: i, node: 'A' })),
    );
    assert.is(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.is(r.reason.code, 'ERR_KEYGROUP_EXISTS');
  });

  test('replicas join with their own expiry and leave as removed', async ({ h, a }) => {
    await a.createKeygroup({ name: 'kg', mutable: true, expiry: 0, node: 'A' });
    await a.addReplica('kg', 'B', 60);
    assert.equal((await a.getKeygroup('kg'))?.replicas, [{ node: 'A', expiry: 0 }, { node: 'B', expiry: 60 }]);
    await a.addReplica('kg', 'B', 120); // re-adding updates the expiry
    assert.equal((await a.getKeygroup('kg'))?.replicas, [{ node: 'A', expiry: 0 }, { node: 'B', expiry: 120 }]);
    let raw = await h.raw();
    assert.is(raw['kg|kg|node|B'], 'ok');
    assert.is(raw['kg|kg|expiry|node|B'], '120');

    await a.removeReplica('kg', 'A');
    assert.equal((await a.getKeygroup('kg'))?.replicas, [{ node: 'B', expiry: 120 }]);
    raw = await h.raw();
    assert.is(raw['kg|kg|node|A'], 'removed');
    await rejects(() => a.removeReplica('kg', 'A'), 'ERR_REPLICA_NOT_FOUND');
    await rejects(() => a.removeReplica('kg', 'B'), 'ERR_LAST_REPLICA');
    await a.addReplica('kg', 'A', 1);
    assert.equal((await a.getKeygroup('kg'))?.replicas, [{ node: 'A', expiry: 1 }, { node: 'B', expiry: 120 }]);
  });

  test('concurrent removals from two nodes never remove the last replica', async ({ a, b }) => {
    await a.createKeygroup({ name: 'kg', mutable: true, expiry: 0, node: 'A' });
    await a.addReplica('kg', 'B', 0);
    await eventually(async () => assert.is((await b.getKeygroup('kg'))?.replicas.length, 2));
    const results = await Promise.allSettled([a.removeReplica('kg', 'A'), b.removeReplica('kg', 'B')]);
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.is(lost.length, 1, JSON.stringify(results.map((r) => r.status)));
    assert.is(lost[0]!.reason.code, 'ERR_LAST_REPLICA');
    assert.is((await a.getKeygroup('kg'))?.replicas.length, 1);
  });

  test('replica changes need an existing keygroup and a registered node', async ({ a }) => {
    await rejects(() => a.addReplica('nokg', 'A', 0), 'ERR_KEYGROUP_NOT_FOUND');
    await rejects(() => a.removeReplica('nokg', 'A'), 'ERR_KEYGROUP_NOT_FOUND');
    await a.createKeygroup({ name: 'kg', mutable: true, expiry: 0, node: 'A' });
    await rejects(() => a.addReplica('kg', 'C', 0), 'ERR_NODE_NOT_FOUND');
    await rejects(() => a.addReplica('kg', 'B', -5), 'ERR_INVALID_ARGUMENT');
    await a.registerNode({ id: 'C', address: '10.0.0.3:5555', extAddress: '10.0.0.3:9001' });
    await a.addReplica('kg', 'C', 0);
    assert.equal((await a.listKeygroups()).map((k) => [k.name, k.replicas.map((r) => r.node)]), [['kg', ['A', 'C']]]);
  });

  registerAccessTests(test);

  test('change notifications reach subscribers of the other node; unsubscribe stops them', async ({ a, b }) => {
    const seen: NamingChange[] = [];
    const unsubscribe = b.subscribe((c) => seen.push(c));
    await a.createKeygroup({ name: 'kg', mutable: true, expiry: 0, node: 'A' });
    await a.addReplica('kg', 'B', 3);
    await a.grantRole('bob', 'kg', 'WriteKeygroup');
    await eventually(() => {
      assert.ok(seen.some((c) => c.kind === 'keygroup' && c.keygroup === 'kg'));
      assert.ok(seen.some((c) => c.kind === 'replica' && c.keygroup === 'kg' && c.node === 'B'));
      assert.ok(seen.some((c) => c.kind === 'permission' && c.keygroup === 'kg' && c.user === 'bob'));
    });
    // A listener that throws must not break the write or other listeners.
    const alsoSeen: NamingChange[] = [];
    const unsubscribeThrower = b.subscribe(() => {
      throw new Error('listener bug');
    });
    b.subscribe((c) => alsoSeen.push(c));
    unsubscribe();
    const count = seen.length;
    await a.revokeRole('bob', 'kg', 'WriteKeygroup');
    await eventually(() => assert.ok(alsoSeen.some((c) => c.kind === 'permission' && c.user === 'bob')));
    assert.is(seen.length, count);
    unsubscribeThrower();
  });

  test('roles are the ones of the FReD client API', () => {
    assert.equal([...ROLES], ['ReadKeygroup', 'WriteKeygroup', 'ConfigureReplica', 'ConfigureTrigger', 'ConfigureKeygroups']);
    assert.is(CALL_PERMISSION.Scan, 'Read');
    assert.is(CALL_PERMISSION.Append, 'Update');
    assert.is(CALL_PERMISSION.GetKeygroupInfo, 'GetReplica');
  });

  test('a closed service rejects calls with ERR_NAMING_CLOSED', async ({ a }) => {
    await a.close();
    await rejects(() => a.getKeygroup('kg'), 'ERR_NAMING_CLOSED');
    await rejects(() => a.createKeygroup({ name: 'kg', mutable: true, expiry: 0, node: 'A' }), 'ERR_NAMING_CLOSED');
    await a.close(); // idempotent
  });

  test.run();
}
