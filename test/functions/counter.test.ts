// The example counter on a node, under concurrent clients: its atomic increment loses no count.
// Every acknowledged increment is in the final count and every answer is a distinct value, also
// right after a reset (DELETE), when the increments re-create a deleted item.
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { guest, startTestNode, type TestNode } from '../helpers/test-node.js';

const CLIENTS = 4;
const INCREMENTS_PER_CLIENT = 60;

const test = suite<{ n: TestNode }>('functions: counter under concurrent clients');

test.before(async (ctx) => {
  // As many workers as clients, so the invocations really run at the same time.
  ctx.n = await startTestNode({ workers: CLIENTS });
  const res = await ctx.n.deploy('counter', await guest('counter'));
  assert.ok(res.ok, await res.text());
});
test.after(async (ctx) => {
  await ctx.n.close();
});

/** CLIENTS clients calling the counter one request after another; every answer, per client. */
async function load(n: TestNode): Promise<number[]> {
  const answers = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const values: number[] = [];
      for (let i = 0; i < INCREMENTS_PER_CLIENT; i++) {
        const res = await n.call('counter', { method: 'POST' });
        const body = await res.text();
        assert.is(res.status, 200, body);
        values.push(Number(body));
      }
      return values;
    }),
  );
  return answers.flat();
}

function assertNoneLost(answers: number[], before: number): void {
  const total = CLIENTS * INCREMENTS_PER_CLIENT;
  assert.is(answers.length, total);
  assert.is(new Set(answers).size, total, 'two calls answered the same count: one increment was lost');
  assert.equal([...answers].sort((a, b) => a - b), Array.from({ length: total }, (_, i) => before + i + 1));
}

test('4 concurrent clients: the count is the number of acknowledged increments, each answer distinct', async ({ n }) => {
  const answers = await load(n);
  assertNoneLost(answers, 0);
  assert.is(await (await n.call('counter')).text(), String(answers.length + 1));
});

test('after a reset the concurrent increments re-create the counter and still lose nothing', async ({ n }) => {
  const reset = await n.call('counter', { method: 'DELETE' });
  assert.is(reset.status, 200);
  assert.is(await reset.text(), '0');
  assertNoneLost(await load(n), 0);
});

test.run();
