// Redeploying a function while it is being called: every request succeeds, answered by either
// the old or the new version, and once the deploy is acknowledged only the new one answers.

import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { guest, startTestNode, type TestNode } from '../../helpers/test-node.js';

const test = suite<{ n: TestNode }>('http: redeploy under load');

test.before(async (ctx) => {
  ctx.n = await startTestNode();
});
test.after(async (ctx) => {
  await ctx.n.close();
});

test('concurrent deploys and invocations of one name never fail a request', async ({ n }) => {
  const hello = await guest('hello');
  const echo = await guest('echo');
  assert.ok((await n.deploy('swap', hello)).ok);

  let stop = false;
  const seen = { hello: 0, echo: 0 };
  const failures: string[] = [];
  const caller = async () => {
    while (!stop) {
      const res = await n.call('swap', { method: 'POST', body: 'ping' });
      const text = await res.text();
      if (res.status !== 200) failures.push(`${res.status} ${text}`);
      else if (text.includes('hello from wat')) seen.hello++;
      else if (text.includes('ping')) seen.echo++;
      else failures.push(`unexpected body ${text.slice(0, 80)}`);
    }
  };
  const callers = Array.from({ length: 4 }, caller);
  for (let i = 0; i < 6; i++) {
    const res = await n.deploy('swap', i % 2 === 0 ? echo : hello);
    assert.ok(res.ok, await res.text());
    // Once acknowledged, the new version answers every new request.
    const text = await (await n.call('swap', { method: 'POST', body: 'ping' })).text();
    assert.ok(i % 2 === 0 ? text.includes('ping') : text.includes('hello from wat'), `after deploy ${i}: ${text}`);
  }
  stop = true;
  await Promise.all(callers);
  assert.equal(failures, []);
  assert.ok(seen.hello > 0 && seen.echo > 0, JSON.stringify(seen));
});

test.run();
