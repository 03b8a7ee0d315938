// Functions on a cluster: one function deployed on two edges shares its keygroup, and the cloud
// node configured for the edges holds a replica of it.
import * as grpc from '@grpc/grpc-js';
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { guest, only, rejects, sharedCluster } from './harness.js';

const test = suite('cluster: functions');
// alice owns the keygroups nodes create for functions (ENOKI_KEYGROUP_OWNER).
const cluster = sharedCluster({ keygroupOwner: 'alice' });
test.after(() => cluster.close());

test('a counter deployed on two edges counts once across both, and the cloud holds its keygroup', async () => {
  const c = await cluster.get();
  const wasm = await guest('counter');
  for (const node of ['edge1', 'edge2'] as const) {
    const res = await c.deploy(node, 'counter', wasm);
    assert.is(res.status, 201, await res.text());
  }

  const count = async (node: 'edge1' | 'edge2') => {
    const res = await c.invoke(node, 'counter');
    assert.is(res.status, 200, await res.clone().text());
    return Number(await res.text());
  };
  assert.equal([await count('edge1'), await count('edge1'), await count('edge1')], [1, 2, 3]);
  // Sync replication: the edge2 replica has the increments once edge1 has answered.
  assert.is(await count('edge2'), 4);
  assert.is(await count('edge1'), 5);

  // Every replica, the cloud's included, holds the count; the configured owner reads it through
  // the client API, and nobody else was granted anything.
  const alice = await c.client('cloud', 'alice');
  const info = await alice.call<{ mutable: boolean; replica: Array<{ nodeId: string }> }>('GetKeygroupInfo', { keygroup: 'counter' });
  assert.ok(info.mutable);
  assert.equal(info.replica.map((r) => r.nodeId), ['cloud', 'edge1', 'edge2']);
  const onCloud = only(await alice.read('counter', 'count'));
  assert.is(onCloud.val, '5');
  assert.equal(only(await (await c.client('edge2', 'alice')).read('counter', 'count')), onCloud);
  await rejects((await c.client('cloud', 'bob')).read('counter', 'count'), grpc.status.PERMISSION_DENIED);
});

test.run();
