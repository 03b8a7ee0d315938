// A function deployed with kvNode keeps its keygroup on that node: its key-value calls go to that
// node's client API, the deploying node never becomes a replica, and when the node is down the
// guest gets an `unavailable` kv-error while the deploying node keeps serving.
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { startTestNode } from '../helpers/test-node.js';
import { eventually, guest, only, sharedCluster, type ProcessNode } from './harness.js';

const test = suite('cluster: remote key-value');
// edge2 runs as a child process, so it can be killed; alice owns keygroups nodes create.
const cluster = sharedCluster({ inProcess: ['edge1', 'cloud'], keygroupOwner: 'alice' });
test.after(() => cluster.close());
let edge2: ProcessNode;

const replicasOf = async (keygroup: string) => {
  const c = await cluster.get();
  const info = await (await c.client('cloud', 'alice')).call<{ replica: Array<{ nodeId: string }> }>('GetKeygroupInfo', { keygroup });
  return info.replica.map((r) => r.nodeId);
};

const count = async (name: string): Promise<{ status: number; body: string }> => {
  const res = await (await cluster.get()).invoke('edge1', name);
  return { status: res.status, body: await res.text() };
};

test('a function on edge1 reads and writes the keygroup only edge2 holds', async () => {
  const c = await cluster.get();
  edge2 = await c.startProcess('edge2');
  const onEdge2 = await c.client('edge2', 'alice');
  await onEdge2.createKeygroup('tally');
  await onEdge2.update('tally', 'count', '41');

  const res = await c.deploy('edge1', 'tally', await guest('counter'), '?keygroup=tally&kvNode=edge2');
  assert.is(res.status, 201, await res.text());
  // Reads see edge2's data, and the write lands on edge2.
  assert.equal(await count('tally'), { status: 200, body: '42' });
  assert.equal(await count('tally'), { status: 200, body: '43' });
  assert.is(only(await onEdge2.read('tally', 'count')).val, '43');
  // A write made on edge2 is what the next invocation sees: nothing is cached on edge1.
  await onEdge2.update('tally', 'count', '100');
  assert.equal(await count('tally'), { status: 200, body: '101' });
  // edge1 did not join the keygroup (nor did the cloud edge1 is configured with).
  assert.equal(await replicasOf('tally'), ['edge2']);
});

test('a new keygroup is created on the kvNode, with the configured owner', async () => {
  const c = await cluster.get();
  const res = await c.deploy('edge1', 'visits', await guest('counter'), '?kvNode=cloud');
  assert.is(res.status, 201, await res.text());
  assert.equal(await count('visits'), { status: 200, body: '1' });
  assert.equal(await replicasOf('visits'), ['cloud']);
  assert.is(only(await (await c.client('cloud', 'alice')).read('visits', 'count')).val, '1');
});

test('a counter on two nodes with one kvNode is one cluster-wide counter: concurrent increments lose nothing', async () => {
  const c = await cluster.get();
  await (await c.client('edge2', 'alice')).createKeygroup('shared');
  for (const node of ['edge1', 'cloud'] as const) {
    const res = await c.deploy(node, `shared${node}`, await guest('counter'), '?keygroup=shared&kvNode=edge2');
    assert.is(res.status, 201, await res.text());
  }
  // Two clients per node, every increment a conditional update on edge2 racing the other node's.
  const perClient = 15;
  const clients = (['edge1', 'edge1', 'cloud', 'cloud'] as const).map(async (node) => {
    const values: number[] = [];
    for (let i = 0; i < perClient; i++) {
      const res = await c.invoke(node, `shared${node}`);
      const body = await res.text();
      assert.is(res.status, 200, body);
      values.push(Number(body));
    }
    return values;
  });
  const answers = (await Promise.all(clients)).flat();
  assert.equal([...answers].sort((a, b) => a - b), Array.from({ length: 4 * perClient }, (_, i) => i + 1));
  assert.is(only(await (await c.client('edge2', 'alice')).read('shared', 'count')).val, String(4 * perClient));
});

test('deploy refuses a kvNode that is unknown, holds no replica, or is malformed', async () => {
  const c = await cluster.get();
  const wasm = await guest('counter');
  const refused = async (query: string, mentions: RegExp) => {
    const res = await c.deploy('edge1', 'refused', wasm, query);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.is(res.status, 400, JSON.stringify(body));
    assert.is(body.error.code, 'ERR_INVALID_OPTION');
    assert.match(body.error.message, mentions);
  };
  await refused('?kvNode=nosuchnode', /nosuchnode is not a node of the cluster/);
  // tally exists and lives only on edge2.
  await refused('?keygroup=tally&kvNode=cloud', /cloud is not a replica of keygroup tally; its replicas are: edge2/);
  await refused('?kvNode=' + encodeURIComponent('edge2|x'), /invalid kvNode/);
  await refused('?kvNode=', /invalid kvNode/);
  const list = await fetch(`${c.node('edge1').url}/functions`, { headers: { authorization: 'Bearer test-admin-token' } });
  assert.not.match(await list.text(), /refused/);

  // A standalone node has no other node to ask.
  const standalone = await startTestNode({ workers: 1 });
  try {
    const res = await standalone.deploy('counter', wasm, '?kvNode=cloud');
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.is(res.status, 400);
    assert.is(body.error.code, 'ERR_INVALID_OPTION');
    assert.match(body.error.message, /cluster/);
  } finally {
    await standalone.close();
  }
});

test('with edge2 down the guest gets an unavailable kv-error, edge1 stays up, and calls work again after a restart', async () => {
  const c = await cluster.get();
  await edge2.kill();

  const failed = await count('tally');
  assert.is(failed.status, 500);
  // counter turns a kv-error into its error message.
  assert.match(failed.body, /kv unavailable: .*node edge2/);

  // The node serves everything else: health, and a function whose keygroup lives elsewhere.
  assert.is((await fetch(`${c.node('edge1').url}/healthz`)).status, 200);
  assert.equal(await count('visits'), { status: 200, body: '2' });

  // The channel reconnects once edge2 is back on its address (within its 1 s reconnect backoff);
  // the failed invocations wrote nothing.
  await edge2.restart();
  await eventually(async () => assert.equal(await count('tally'), { status: 200, body: '102' }), 5_000, 100);
});

test.run();
