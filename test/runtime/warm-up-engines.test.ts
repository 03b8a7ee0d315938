// The engine warm-up before a node listens (warm-up/engines.ts): one function of each large
// engine runs once, within a time budget, and leaves neither an instance nor a trace of its run
// in the function's state.
import { test } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { hasJspi } from '../../runtime/exec/inline/jspi.js';
import { warmEngines, type EngineWarmTarget } from '../../runtime/warm-up/engines.js';
import { guest, startTestNode, type TestNode } from '../helpers/test-node.js';

async function metric(n: TestNode, name: string): Promise<number> {
  const text = await (await fetch(`${n.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
}

test('each function is offered in turn; engines run, functions that fail to load and those left over are counted', async () => {
  const offered: string[] = [];
  const target: EngineWarmTarget = {
    async warmEngine(name) {
      offered.push(name);
      if (name === 'broken') throw new Error('unreadable artefact');
      return name.startsWith('js');
    },
  };
  const result = await warmEngines(target, ['js-a', 'tiny', 'broken', 'js-b'], 10_000);
  assert.equal(offered, ['js-a', 'tiny', 'broken', 'js-b']);
  assert.equal({ ...result, ms: 0 }, { engines: 2, skipped: 0, failed: 1, ms: 0 });
});

test('each run gets what is left of the budget, and none starts once it is spent', async () => {
  const limits: number[] = [];
  const target: EngineWarmTarget = {
    async warmEngine(_name, limitMs) {
      limits.push(limitMs);
      await new Promise((r) => setTimeout(r, 40));
      return true;
    },
  };
  const names = ['a', 'b', 'c', 'd', 'e'];
  const result = await warmEngines(target, names, 60);
  assert.ok(limits.length >= 1 && limits.length <= 2, `ran ${limits.length}`);
  assert.ok(limits[0] <= 60 && limits.every((l, i) => i === 0 || l < limits[i - 1]), `limits ${limits.join(', ')}`);
  assert.is(result.engines, limits.length);
  assert.is(result.skipped, names.length - limits.length);
  assert.ok(result.ms >= 40);
});

test('a restarted node runs its JS engine once, keeps no instance, and the run leaves no state', async () => {
  const n = await startTestNode({ prewarm: false });
  try {
    for (const name of ['counter', 'echo', 'hello']) assert.ok((await n.deploy(name, await guest(name))).ok, name);
    assert.is(await (await n.call('counter')).text(), '1');
    await n.restart();
    // counter and echo share StarlingMonkey: one engine; hello is too small to be worth it. Without
    // JSPI there is no inline engine, and no warm-up.
    assert.is(await metric(n, 'enoki_engines_warmed'), hasJspi ? 1 : 0);
    assert.is(await metric(n, 'enoki_warm_instances'), 0);
    // The warm-up's run of counter (if it was the one run) could not write: its host refused.
    assert.is(await (await n.call('counter')).text(), '2');
    const echoed = (await (await n.call('echo', { method: 'POST', body: 'after the warm-up' })).json()) as { method: string; body: string };
    assert.equal([echoed.method, echoed.body], ['POST', 'after the warm-up']);
    await n.restart({ prewarm: false, warmUp: false });
    assert.is(await metric(n, 'enoki_engines_warmed'), 0);
  } finally {
    await n.close();
  }
});

test.run();
