// The function world grows by new imports without breaking components built before: a component
// importing any subset of the world deploys. The old WITs are kept as fixtures.

import fs from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { componentEmbed, componentNew } from '@bytecodealliance/jco';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { startTestNode, type TestNode } from '../../helpers/test-node.js';

const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/', import.meta.url));

/** A component of the world in `witFile` whose core module only has the right shape. */
async function dummyComponent(witFile: string): Promise<Uint8Array> {
  const witSource = await fs.readFile(witFile, 'utf8');
  return componentNew(await componentEmbed({ witSource, dummy: true, world: 'function' }));
}

const test = suite<{ n: TestNode }>('functions: world compatibility');

test.before(async (ctx) => {
  ctx.n = await startTestNode({ workers: 1 });
});
test.after(async (ctx) => {
  await ctx.n.close();
});

test('a component built against the WIT before `invoke` existed still deploys', async ({ n }) => {
  const res = await n.deploy('old', await dummyComponent(`${FIXTURES}wit-before-invoke/enoki.wit`));
  assert.ok(res.ok, await res.text());
});

test('a component built against the WIT before `atomics` existed still deploys', async ({ n }) => {
  const res = await n.deploy('beforeatomics', await dummyComponent(`${FIXTURES}wit-before-atomics/enoki.wit`));
  assert.ok(res.ok, await res.text());
});

test('a component importing `invoke` and `atomics` deploys', async ({ n }) => {
  const res = await n.deploy('new', await dummyComponent(`${FIXTURES}../../wit/enoki.wit`));
  assert.ok(res.ok, await res.text());
});

test.run();
