// The TriggerStore contract as one uvu suite; every implementation runs it through a factory.
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import type { TriggerStore } from '../../../replication/client-api/triggers.js';

export interface TriggerStoreHarness {
  store: TriggerStore;
  /** The same store as found again after a restart (memory: the same instance). */
  reopen(): Promise<TriggerStore>;
  cleanup(): Promise<void>;
}

export function runTriggerStoreConformance(name: string, factory: () => Promise<TriggerStoreHarness>): void {
  const test = suite<{ h: TriggerStoreHarness }>(`${name} conformance`);
  test.before.each(async (ctx) => {
    ctx.h = await factory();
  });
  test.after.each(async ({ h }) => h.cleanup());

  test('lists the triggers of a keygroup sorted by id, keygroups kept apart', async ({ h }) => {
    await h.store.add('kv', { id: 'b', host: 'b.example:1' });
    await h.store.add('kv', { id: 'a', host: 'a.example:1' });
    await h.store.add('log', { id: 'c', host: 'c.example:1' });
    assert.equal(await h.store.list('kv'), [{ id: 'a', host: 'a.example:1' }, { id: 'b', host: 'b.example:1' }]);
    assert.equal(await h.store.list('log'), [{ id: 'c', host: 'c.example:1' }]);
    assert.equal(await h.store.list('none'), []);
  });

  test('adding an existing id replaces its host', async ({ h }) => {
    await h.store.add('kv', { id: 'a', host: 'old.example:1' });
    await h.store.add('kv', { id: 'a', host: 'new.example:1' });
    assert.equal(await h.store.list('kv'), [{ id: 'a', host: 'new.example:1' }]);
  });

  test('remove reports whether the trigger existed', async ({ h }) => {
    await h.store.add('kv', { id: 'a', host: 'a.example:1' });
    assert.is(await h.store.remove('kv', 'a'), true);
    assert.is(await h.store.remove('kv', 'a'), false);
    assert.is(await h.store.remove('none', 'a'), false);
    assert.equal(await h.store.list('kv'), []);
  });

  test('removeKeygroup forgets only that keygroup', async ({ h }) => {
    await h.store.add('kv', { id: 'a', host: 'a.example:1' });
    await h.store.add('log', { id: 'b', host: 'b.example:1' });
    await h.store.removeKeygroup('kv');
    await h.store.removeKeygroup('none');
    assert.equal(await h.store.list('kv'), []);
    assert.equal(await h.store.list('log'), [{ id: 'b', host: 'b.example:1' }]);
  });

  test('returned lists are copies', async ({ h }) => {
    await h.store.add('kv', { id: 'a', host: 'a.example:1' });
    const listed = await h.store.list('kv');
    listed[0]!.host = 'changed';
    listed.push({ id: 'z', host: 'z' });
    assert.equal(await h.store.list('kv'), [{ id: 'a', host: 'a.example:1' }]);
  });

  test('concurrent changes all take effect', async ({ h }) => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => h.store.add('kv', { id: `t${String(i).padStart(2, '0')}`, host: `h${i}.example:1` })));
    await Promise.all([h.store.remove('kv', 't00'), h.store.add('log', { id: 'x', host: 'x.example:1' })]);
    assert.is((await h.store.list('kv')).length, 19);
  });

  test('triggers survive a restart', async ({ h }) => {
    await h.store.add('kv', { id: 'a', host: 'a.example:1' });
    await h.store.add('kv', { id: 'b', host: 'b.example:1' });
    await h.store.remove('kv', 'b');
    const reopened = await h.reopen();
    assert.equal(await reopened.list('kv'), [{ id: 'a', host: 'a.example:1' }]);
  });

  test.run();
}
