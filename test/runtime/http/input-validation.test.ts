// Bad input found by fuzzing the API (test/runtime/http/fuzz.test.ts) and fixed: each answers a
// 400 with a stable code instead of being read as something else.

import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { guest, startTestNode, type TestNode } from '../../helpers/test-node.js';

const test = suite<{ n: TestNode }>('http: input the fuzz found');

test.before(async (ctx) => {
  ctx.n = await startTestNode();
});
test.after(async (ctx) => {
  await ctx.n.close();
});

async function code(res: Response, status: number): Promise<string> {
  const text = await res.text();
  assert.is(res.status, status, text);
  return (JSON.parse(text) as { error: { code: string } }).error.code;
}

test('a rollback body that is not {"version": "<id>"} is a 400, not a lookup of "[object Object]"', async ({ n }) => {
  await n.deploy('rolling', await guest('hello'));
  await n.deploy('rolling', await guest('echo'));
  for (const body of ['{"version":{}}', '{"version":5}', '[]', 'null', '"v1"']) {
    const res = await n.admin('POST', '/functions/rolling/rollback', body);
    assert.is(res.status, 400, `${body}: ${await res.clone().text()}`);
    assert.is(((await res.json()) as { error: { code: string } }).error.code, 'ERR_BAD_REQUEST');
  }
  // Still on v2: none of them rolled anything back.
  assert.is(((await (await n.admin('GET', '/functions/rolling')).json()) as { active: string }).active, 'v2');
});

test('boolean options take true, false, 1 or 0: purge=yes does not silently keep the data, immutable=yes does not make a mutable keygroup', async ({ n }) => {
  const wasm = await guest('counter');
  assert.is(await code(await n.deploy('tally', wasm, '?immutable=yes'), 400), 'ERR_INVALID_OPTION');
  assert.is((await n.admin('GET', '/functions/tally')).status, 404, 'nothing was deployed');
  assert.is((await n.deploy('tally', wasm, '?immutable=false')).status, 201);
  await n.call('tally', { method: 'POST' });
  assert.is(await code(await n.admin('DELETE', '/functions/tally?purge=yes'), 400), 'ERR_INVALID_OPTION');
  assert.is((await n.admin('GET', '/functions/tally')).status, 200, 'still deployed');
  const removed = await n.admin('DELETE', '/functions/tally?purge=1');
  assert.is(((await removed.json()) as { dataPurged: boolean }).dataPurged, true);
});

test('a query option given twice, or empty where a number is due, is a 400, not its first value or 0', async ({ n }) => {
  await n.deploy('paged', await guest('hello'));
  for (const query of ['limit=&limit=5', 'limit=1&limit=2', 'before=3&before=4', 'limit=', 'limit=1e3', 'limit=%201']) {
    assert.is(await code(await n.admin('GET', `/functions/paged/logs?${query}`), 400), 'ERR_INVALID_OPTION', query);
  }
  assert.is((await n.admin('GET', '/functions/paged/logs?limit=5')).status, 200);
  assert.is(await code(await n.admin('DELETE', '/functions/paged?purge=1&purge=0'), 400), 'ERR_INVALID_OPTION');
  assert.is((await n.admin('GET', '/functions/paged')).status, 200, 'still deployed');
  assert.is(await code(await n.deploy('paged2', await guest('hello'), '?timeoutMs=100&timeoutMs=200'), 400), 'ERR_INVALID_OPTION');
});

test.run();
