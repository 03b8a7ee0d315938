// Workers start on demand: an idle node runs ENOKI_MIN_WORKERS of them (one by default) and
// concurrent calls start more, up to ENOKI_WORKERS.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { guest, startTestNode, type TestNode } from '../../helpers/test-node.js';

async function workers(n: TestNode): Promise<number> {
  const text = await (await fetch(`${n.url}/metrics`)).text();
  return Number(/^enoki_workers (\d+)/m.exec(text)?.[1]);
}

test('an idle node has one worker; concurrent calls start more, never beyond ENOKI_WORKERS', async () => {
  const n = await startTestNode({ engine: 'worker', workers: 3 });
  try {
    assert.is(await workers(n), 1);
    assert.ok((await n.deploy('misbehave', await guest('fixtures/misbehave.wasm'))).ok);
    assert.is((await n.call('misbehave', { path: '/ok' })).status, 200);
    assert.is(await workers(n), 1, 'calls one after another need no second worker');
    const calls = Array.from({ length: 6 }, () => n.call('misbehave', { path: '/slow?ms=150' }));
    const statuses = await Promise.all(calls.map(async (c) => (await c).status));
    assert.equal(statuses, [200, 200, 200, 200, 200, 200]);
    const after = await workers(n);
    assert.ok(after > 1 && after <= 3, `${after} workers after 6 concurrent calls`);
  } finally {
    await n.close();
  }
});

test('ENOKI_MIN_WORKERS starts that many with the node', async () => {
  const n = await startTestNode({ engine: 'worker', workers: 3, minWorkers: 3 });
  try {
    assert.is(await workers(n), 3);
  } finally {
    await n.close();
  }
});

test.run();
