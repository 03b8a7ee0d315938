// ClusterKeygroups: the keygroup of a function deployed first on this node is created
// cluster-wide, replicated to the cloud node, and owned by the configured user.
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import type { ReplicationEngine } from '../../../replication/engine/engine.js';
import { MemoryNaming } from '../../../replication/naming/memory-naming.js';
import { ROLE_METHODS } from '../../../replication/naming/port.js';
import { MemoryReplicaStore } from '../../../replication/store/memory-store.js';
import { ClusterKeygroups } from '../../../runtime/cluster/cluster-keygroups.js';

const test = suite('cluster keygroups');

async function setup(owner?: string) {
  const naming = new MemoryNaming();
  await naming.start();
  for (const id of ['edge1', 'cloud']) await naming.registerNode({ id, address: `${id}:1`, extAddress: `${id}:2` });
  const store = new MemoryReplicaStore({ nodeId: 'edge1' });
  await store.open();
  const invited: string[] = [];
  const engine = {
    inviteReplica: async (keygroup: string, node: string) => void invited.push(`${keygroup}@${node}`),
    join: async () => true,
  } as unknown as ReplicationEngine;
  const keygroups = new ClusterKeygroups({ nodeId: 'edge1', store, naming, engine, cloudNode: 'cloud', owner });
  return { naming, store, keygroups, invited };
}

test('a new keygroup is created here and on the cloud node, with every role for the owner', async () => {
  const { naming, store, keygroups, invited } = await setup('admin');
  assert.is((await keygroups.ensure('counter', { mutable: true })).origin, 'created');
  assert.equal(await naming.getPermissions('admin', 'counter'), Object.values(ROLE_METHODS).flat().sort());
  assert.equal(await naming.getPermissions('edge1', 'counter'), []);
  assert.equal((await naming.getKeygroup('counter'))?.replicas.map((r) => r.node), ['cloud', 'edge1']);
  assert.ok(await store.getKeygroup('counter'));
  assert.equal(invited, ['counter@cloud']);
  await naming.close();
});

test('without an owner nobody gets a role on it', async () => {
  const { naming, keygroups } = await setup();
  await keygroups.ensure('counter', { mutable: true });
  for (const user of ['admin', 'edge1']) assert.equal(await naming.getPermissions(user, 'counter'), []);
  await naming.close();
});

test.run();
