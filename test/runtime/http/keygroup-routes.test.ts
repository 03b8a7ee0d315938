// Keygroup items over the admin API: values with their versions, paged scans, writes a function
// then reads, append-only keygroups taking appends only, and coded errors for bad input.

import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { guest, startTestNode, type TestNode } from '../../helpers/test-node.js';

const test = suite<{ n: TestNode }>('http: keygroup items');

test.before(async (ctx) => {
  ctx.n = await startTestNode();
  for (const [name, query] of [
    ['counter', ''],
    ['journal', '?immutable=true'],
  ] as const) {
    const res = await ctx.n.deploy(name, await guest(name === 'counter' ? 'counter' : 'hello'), query);
    assert.ok(res.ok, await res.text());
  }
});
test.after(async (ctx) => {
  await ctx.n.close();
});

interface Sibling {
  value: string;
  version: Record<string, number>;
}

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  assert.is(res.status, status, text);
  return JSON.parse(text) as T;
}

async function errorCode(res: Response, status: number): Promise<string> {
  return (await json<{ error: { code: string } }>(res, status)).error.code;
}

test('the routes need the admin token', async ({ n }) => {
  for (const [method, route] of [
    ['GET', '/keygroups'],
    ['GET', '/keygroups/counter/items'],
    ['PUT', '/keygroups/counter/items/x'],
    ['DELETE', '/keygroups/counter/items/x'],
  ]) {
    const res = await fetch(`${n.url}${route}`, { method, body: method === 'PUT' ? 'v' : undefined });
    assert.is(await errorCode(res, 401), 'ERR_UNAUTHORIZED', `${method} ${route}`);
  }
});

test('keygroups are listed with their mutability', async ({ n }) => {
  const { keygroups } = await json<{ keygroups: { name: string; mutable: boolean }[] }>(await n.admin('GET', '/keygroups'), 200);
  assert.equal(
    keygroups.filter((k) => k.name === 'counter' || k.name === 'journal').map((k) => [k.name, k.mutable]),
    [
      ['counter', true],
      ['journal', false],
    ],
  );
  assert.is(await errorCode(await n.admin('GET', '/keygroups/nope'), 404), 'ERR_KEYGROUP_NOT_FOUND');
});

test('put, get and delete an item of a mutable keygroup; each write is a new version', async ({ n }) => {
  const nodeId = n.node.nodeId;
  const first = await json<{ version: Record<string, number> }>(await n.admin('PUT', '/keygroups/counter/items/greeting', 'hello'), 200);
  const second = await json<{ version: Record<string, number> }>(await n.admin('PUT', '/keygroups/counter/items/greeting', 'hello again'), 200);
  assert.ok(second.version[nodeId] > first.version[nodeId], `versions ${JSON.stringify(first.version)} then ${JSON.stringify(second.version)}`);
  const item = await json<{ id: string; siblings: Sibling[] }>(await n.admin('GET', '/keygroups/counter/items/greeting'), 200);
  assert.equal(item.siblings, [{ value: 'hello again', version: second.version }]);

  await json(await n.admin('DELETE', '/keygroups/counter/items/greeting'), 200);
  assert.is(await errorCode(await n.admin('GET', '/keygroups/counter/items/greeting'), 404), 'ERR_ITEM_NOT_FOUND');
  assert.is(await errorCode(await n.admin('DELETE', '/keygroups/counter/items/greeting'), 404), 'ERR_ITEM_NOT_FOUND');
});

test('a value written here is what the function reads next', async ({ n }) => {
  await json(await n.admin('PUT', '/keygroups/counter/items/count', '41'), 200);
  const res = await n.call('counter', { method: 'POST' });
  assert.is(await res.text(), '42');
  const item = await json<{ siblings: Sibling[] }>(await n.admin('GET', '/keygroups/counter/items/count'), 200);
  assert.is(item.siblings[0].value, '42');
});

test('a scan pages through the items in id order', async ({ n }) => {
  const ids = ['s1', 's2', 's3', 's4', 's5'];
  for (const id of ids) await json(await n.admin('PUT', `/keygroups/counter/items/${id}`, `value of ${id}`), 200);
  const seen: string[] = [];
  let start = 's1';
  for (let page = 0; page < 10; page++) {
    const body = await json<{ items: { id: string; siblings: Sibling[] }[]; next?: string }>(
      await n.admin('GET', `/keygroups/counter/items?start=${start}&count=2`),
      200,
    );
    assert.ok(body.items.length <= 2);
    for (const item of body.items) {
      assert.is(item.siblings[0].value, `value of ${item.id}`);
      seen.push(item.id);
    }
    if (body.next === undefined) break;
    start = body.next;
  }
  assert.equal(seen, ids);
  assert.is(await errorCode(await n.admin('GET', '/keygroups/counter/items?count=0'), 400), 'ERR_INVALID_OPTION');
});

test('bad ids and values are refused with their codes', async ({ n }) => {
  assert.is(await errorCode(await n.admin('PUT', '/keygroups/counter/items/not-an-id', 'v'), 400), 'ERR_INVALID_KEY');
  assert.is(await errorCode(await n.admin('PUT', '/keygroups/counter/items/empty', ''), 400), 'ERR_INVALID_VALUE');
  assert.is(await errorCode(await n.admin('PUT', '/keygroups/nope/items/x', 'v'), 404), 'ERR_KEYGROUP_NOT_FOUND');
});

test('an append-only keygroup takes new decimal ids only and never deletes', async ({ n }) => {
  const appended = await json<{ appended: boolean }>(await n.admin('PUT', '/keygroups/journal/items/1', 'first entry'), 200);
  assert.is(appended.appended, true);
  assert.is(await errorCode(await n.admin('PUT', '/keygroups/journal/items/1', 'again'), 409), 'ERR_ITEM_EXISTS');
  assert.is(await errorCode(await n.admin('PUT', '/keygroups/journal/items/first', 'x'), 400), 'ERR_INVALID_KEY');
  assert.is(await errorCode(await n.admin('DELETE', '/keygroups/journal/items/1'), 409), 'ERR_WRONG_MUTABILITY');
  const item = await json<{ siblings: Sibling[] }>(await n.admin('GET', '/keygroups/journal/items/1'), 200);
  assert.equal(item.siblings.map((s) => s.value), ['first entry']);
  const scan = await json<{ mutable: boolean; items: unknown[] }>(await n.admin('GET', '/keygroups/journal/items'), 200);
  assert.is(scan.mutable, false);
  assert.is(scan.items.length, 1);
});

test.run();
