// Runs the ReplicaStore conformance suite against LevelReplicaStore in a temporary directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { LevelReplicaStore } from '../../../replication/store/level-store.js';
import { runStoreConformance } from './conformance.js';

runStoreConformance('LevelReplicaStore', async ({ nodeId, clock }) => {
  const location = await mkdtemp(join(tmpdir(), 'enoki-level-store-'));
  let store = new LevelReplicaStore({ location, nodeId, clock });
  await store.open();
  return {
    store,
    // A new instance on the same directory: only what reached LevelDB comes back.
    reopen: async () => {
      await store.close();
      store = new LevelReplicaStore({ location, nodeId, clock });
      await store.open();
      return store;
    },
    cleanup: async () => {
      await store.close();
      await rm(location, { recursive: true, force: true });
    },
  };
});

// LevelDB-specific: a deleteKeygroup cut short by a crash. The store removes the metadata key
// first, so what a crash can leave behind is items without metadata; simulate exactly that.
const crash = suite('LevelReplicaStore interrupted deleteKeygroup');

crash('leftover items of a deleted keygroup never reappear', async () => {
  const location = await mkdtemp(join(tmpdir(), 'enoki-level-store-'));
  try {
    let store = new LevelReplicaStore({ location, nodeId: 'A' });
    await store.open();
    await store.createKeygroup({ name: 'kv', mutable: true, expiry: 0 });
    await store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'x', value: 'stale' }]);
    await store.close();

    const raw = new ClassicLevel<string, string>(location);
    await raw.del('k!kv'); // the first step of deleteKeygroup, then the "crash"
    assert.is((await raw.keys({ gte: 'i!', lt: 'i"' }).all()).length, 1);
    await raw.close();

    store = new LevelReplicaStore({ location, nodeId: 'A' });
    await store.open();
    assert.equal(await store.listKeygroups(), []);
    await store.createKeygroup({ name: 'kv', mutable: true, expiry: 0 });
    assert.equal(await store.read('kv', 'x'), []);
    const [applied] = await store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'x', value: 'new' }]);
    assert.equal(applied!.sibling.version, { A: 1 });
    await store.close();
  } finally {
    await rm(location, { recursive: true, force: true });
  }
});

crash.run();
