// Prewarming: with it on, a function's first call after a restart, a deploy or a rollback finds
// a warm instance, and prewarming runs no call.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { guest, startTestNode } from '../../helpers/test-node.js';

test('the first call after a restart is warm once the node has prewarmed', async () => {
  const n = await startTestNode();
  try {
    assert.is((await n.deploy('count', await guest('counter'))).status, 201);
    assert.is(await (await n.call('count')).text(), '1');
    await n.restart({ prewarm: true });
    await n.node.prewarmed();
    const metrics = await (await fetch(`${n.url}/metrics`)).text();
    assert.match(metrics, /enoki_warm_instances [1-9]/);
    const res = await n.call('count');
    assert.is(res.headers.get('x-enoki-cold-start'), '0');
    assert.is(await res.text(), '2', 'the prewarm ran no call: the counter moved once');
  } finally {
    await n.close();
  }
});

test('a deploy prewarms the version it activates; a rollback the one it goes back to', async () => {
  const n = await startTestNode({ prewarm: true });
  try {
    assert.is((await n.deploy('greeter', await guest('hello'))).status, 201);
    await n.node.prewarmed();
    assert.is((await n.call('greeter')).headers.get('x-enoki-cold-start'), '0');
    assert.ok((await n.deploy('greeter', await guest('echo'))).ok);
    await n.node.prewarmed();
    assert.is((await n.call('greeter', { method: 'POST', body: 'x' })).headers.get('x-enoki-cold-start'), '0');
    assert.is((await n.admin('POST', '/functions/greeter/rollback')).status, 200);
    await n.node.prewarmed();
    const back = await n.call('greeter');
    assert.match(await back.text(), /hello/);
    assert.is(back.headers.get('x-enoki-cold-start'), '0');
  } finally {
    await n.close();
  }
});

test.run();
