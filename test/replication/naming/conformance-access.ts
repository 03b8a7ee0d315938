// Conformance tests for permissions (roles → FReD method keys) and missed-write markers.
import * as assert from 'uvu/assert';
import type { Test } from 'uvu';
import { CALL_PERMISSION, ROLE_METHODS, type Method, type NamingService } from '../../../replication/naming/port.js';
import { eventually, rejects, type NamingHarness } from './helpers.js';

type Ctx = { h: NamingHarness; a: NamingService; b: NamingService };

export function registerAccessTests(test: Test<Ctx>): void {
  test('the owner of a new keygroup may do everything; others nothing', async ({ a }) => {
    await a.createKeygroup({ name: 'kg', mutable: true, expiry: 0, node: 'A', owner: 'alice' });
    const all = Object.values(ROLE_METHODS).flat().sort();
    assert.equal(await a.getPermissions('alice', 'kg'), all);
    for (const method of all) assert.is(await a.isAllowed('alice', 'kg', method), true, method);
    assert.equal(await a.getPermissions('bob', 'kg'), []);
    assert.is(await a.isAllowed('bob', 'kg', 'Read'), false);
  });

  test('each role grants exactly its methods, takes effect on the other node, and revokes', async ({ h, a, b }) => {
    await a.createKeygroup({ name: 'kg', mutable: true, expiry: 0, node: 'A' });
    const all = Object.values(ROLE_METHODS).flat();
    for (const [role, methods] of Object.entries(ROLE_METHODS) as Array<[keyof typeof ROLE_METHODS, readonly Method[]]>) {
      await a.grantRole('bob', 'kg', role);
      for (const method of all) assert.is(await a.isAllowed('bob', 'kg', method), methods.includes(method), `${role}/${method}`);
      await eventually(async () => assert.equal(await b.getPermissions('bob', 'kg'), [...methods].sort()));
      const raw = await h.raw();
      for (const method of methods) assert.is(raw[`user|bob|kg|kg|method|${method}`], 'ok');
      await a.revokeRole('bob', 'kg', role);
      assert.equal(await a.getPermissions('bob', 'kg'), []);
      await eventually(async () => assert.is(await b.isAllowed('bob', 'kg', methods[0]!), false));
      assert.not.ok(Object.keys(await h.raw()).some((k) => k.startsWith('user|bob|')));
    }
  });

  test('client calls map to FReD permissions (Scan needs Read, Append needs Update)', async ({ a }) => {
    await a.createKeygroup({ name: 'kg', mutable: false, expiry: 0, node: 'A' });
    await a.grantRole('reader', 'kg', 'ReadKeygroup');
    await a.grantRole('writer', 'kg', 'WriteKeygroup');
    assert.is(await a.isAllowed('reader', 'kg', CALL_PERMISSION.Scan), true);
    assert.is(await a.isAllowed('reader', 'kg', CALL_PERMISSION.Append), false);
    assert.is(await a.isAllowed('writer', 'kg', CALL_PERMISSION.Append), true);
  });

  test('grants are idempotent, per keygroup, and need an existing keygroup', async ({ a }) => {
    await rejects(() => a.grantRole('bob', 'nokg', 'ReadKeygroup'), 'ERR_KEYGROUP_NOT_FOUND');
    await rejects(() => a.revokeRole('bob', 'nokg', 'ReadKeygroup'), 'ERR_KEYGROUP_NOT_FOUND');
    await a.createKeygroup({ name: 'one', mutable: true, expiry: 0, node: 'A' });
    await a.createKeygroup({ name: 'two', mutable: true, expiry: 0, node: 'A' });
    await a.grantRole('bob', 'one', 'ReadKeygroup');
    await a.grantRole('bob', 'one', 'ReadKeygroup');
    await a.revokeRole('bob', 'two', 'ReadKeygroup'); // nothing granted: still fine
    assert.equal(await a.getPermissions('bob', 'one'), ['Read']);
    assert.equal(await a.getPermissions('bob', 'two'), []);
    await rejects(() => a.grantRole('bob', 'one', 'Superuser' as never), 'ERR_INVALID_ARGUMENT');
    await rejects(() => a.isAllowed('bob', 'one', 'Scan' as never), 'ERR_INVALID_ARGUMENT');
  });

  test('missed writes are marked per node, listed in order and cleared', async ({ h, a, b }) => {
    await a.reportMissed({ node: 'B', keygroup: 'kg', id: 'y' });
    await a.reportMissed({ node: 'B', keygroup: 'kg', id: 'x' });
    await a.reportMissed({ node: 'B', keygroup: 'another', id: '7' });
    await a.reportMissed({ node: 'C', keygroup: 'kg', id: 'x' });
    assert.equal(await a.listMissed('B'), [
      { node: 'B', keygroup: 'another', id: '7' },
      { node: 'B', keygroup: 'kg', id: 'x' },
      { node: 'B', keygroup: 'kg', id: 'y' },
    ]);
    const raw = await h.raw();
    assert.is(raw['failnode|B|kg|kg|x'], '1');
    assert.is(raw['failnode|C|kg|kg|x'], '1');
    await eventually(async () => assert.is((await b.listMissed('B')).length, 3));
    await b.clearMissed({ node: 'B', keygroup: 'kg', id: 'x' });
    await b.clearMissed({ node: 'B', keygroup: 'kg', id: 'x' });
    assert.equal((await b.listMissed('B')).map((m) => m.id), ['7', 'y']);
    assert.equal(await a.listMissed('C'), [{ node: 'C', keygroup: 'kg', id: 'x' }]);
    assert.equal(await a.listMissed('D'), []);
    assert.is((await h.raw())['failnode|B|kg|kg|x'], undefined);
  });
}
