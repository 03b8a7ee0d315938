// A call whose function is warm only on a busy worker waits for a warm worker (the busy one,
// or an idle one that loads the function meanwhile) instead of paying a cold start.
import { test } from '../../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { guest, startTestNode, type TestNode } from '../../../helpers/test-node.js';

async function metric(n: TestNode, name: string): Promise<number> {
  const text = await (await fetch(`${n.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1]);
}

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

test('a call arriving while the only warm worker is busy runs warm, and an idle worker is warmed for the next', async () => {
  const n = await startTestNode({ engine: 'worker', workers: 2, minWorkers: 2 });
  try {
    assert.ok((await n.deploy('misbehave', await guest('fixtures/misbehave.wasm'))).ok);
    const first = await n.call('misbehave', { path: '/ok' });
    assert.is(first.headers.get('x-enoki-cold-start'), '1');
    assert.is(await metric(n, 'enoki_warm_instances'), 1);

    const busy = n.call('misbehave', { path: '/slow?ms=300' });
    await new Promise((r) => setTimeout(r, 30));
    const second = await n.call('misbehave', { path: '/ok' });
    assert.is(second.status, 200);
    assert.is(second.headers.get('x-enoki-cold-start'), '0', 'the call waited for a warm worker instead of loading one');
    assert.is((await busy).status, 200);

    // The idle worker loaded the function in the background either way.
    assert.ok(await until(async () => (await metric(n, 'enoki_warm_instances')) === 2, 10_000), 'both workers end up warm');
    const [a, b] = await Promise.all([n.call('misbehave', { path: '/slow?ms=100' }), n.call('misbehave', { path: '/slow?ms=100' })]);
    assert.equal([a.headers.get('x-enoki-cold-start'), b.headers.get('x-enoki-cold-start')], ['0', '0']);
  } finally {
    await n.close();
  }
});

test('a nested call never waits for a warm worker: its warm worker may be its own caller', async () => {
  const n = await startTestNode({ engine: 'worker', workers: 1, minWorkers: 1, callWorkers: 2 });
  try {
    assert.ok((await n.deploy('caller', await guest('fixtures/caller.wasm'))).ok);
    assert.ok((await n.deploy('misbehave', await guest('fixtures/misbehave.wasm'))).ok);
    assert.is((await n.call('caller', { path: '/' })).status, 200);
    assert.is((await n.call('misbehave', { path: '/ok' })).status, 200);
    // caller → caller → misbehave: the inner caller's warm worker is the outer one, blocked.
    const res = await n.call('caller', { path: '/to/caller/to/misbehave/ok' });
    assert.is(res.status, 200);
    assert.is(res.headers.get('x-call-error'), null, await res.clone().text());
    assert.is(res.headers.get('x-called'), 'misbehave, caller');
  } finally {
    await n.close();
  }
});

test.run();
