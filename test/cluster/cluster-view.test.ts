// GET /cluster on a cluster node: the members of its keygroups from the naming service, its peers
// reachable or not, and the writes a stopped peer has not acknowledged, with how long they wait.
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import type { ClusterStatus } from '../../runtime/observe/cluster-view.js';
import { eventually, guest, TestCluster, TOKEN } from './harness.js';

const test = suite('cluster: the cluster view');
let cluster: TestCluster | undefined;
test.after(() => cluster?.close());

async function view(url: string): Promise<ClusterStatus> {
  const res = await fetch(`${url}/cluster`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.is(res.status, 200, await res.clone().text());
  return (await res.json()) as ClusterStatus;
}

test('members per keygroup, peers reachable, and the lag of a peer that stopped', async () => {
  cluster = await TestCluster.start({ inProcess: ['edge1', 'cloud'] });
  const edge2 = await cluster.startProcess('edge2');
  const edge1 = cluster.node('edge1');
  assert.is((await fetch(`${edge1.url}/cluster`)).status, 401, 'admin only');

  const wasm = await guest('counter');
  assert.is((await cluster.deploy('edge1', 'counter', wasm)).status, 201);
  const onEdge2 = await fetch(`${edge2.url}/functions/counter`, { method: 'PUT', body: wasm as Uint8Array<ArrayBuffer>, headers: { authorization: `Bearer ${TOKEN}` } });
  assert.is(onEdge2.status, 201, await onEdge2.text());

  const before = await eventually(async () => {
    const v = await view(edge1.url);
    const counter = v.keygroups.find((k) => k.name === 'counter');
    assert.equal(counter?.members.map((m) => m.nodeId).sort(), ['cloud', 'edge1', 'edge2']);
    return v;
  }, 20_000);
  assert.is(before.mode, 'cluster');
  assert.is(before.nodeId, 'edge1');
  assert.equal(before.problems, []);
  assert.equal(
    before.peers.map((p) => [p.nodeId, p.reachable]),
    [
      ['cloud', true],
      ['edge2', true],
    ],
  );
  assert.ok(before.peers.every((p) => p.address?.startsWith('127.0.0.1:')));

  await edge2.kill();
  assert.is((await cluster.invoke('edge1', 'counter')).status, 200);
  const after = await eventually(async () => {
    const v = await view(edge1.url);
    const peer = v.peers.find((p) => p.nodeId === 'edge2');
    assert.ok(peer && !peer.reachable && peer.pending >= 1 && peer.lagMs > 0, JSON.stringify(peer));
    return v;
  }, 20_000);
  // The cloud answered: nothing is owed to it.
  assert.equal(
    after.peers.filter((p) => p.nodeId === 'cloud').map((p) => [p.reachable, p.pending]),
    [[true, 0]],
  );
});

test.run();
