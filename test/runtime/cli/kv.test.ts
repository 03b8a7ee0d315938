// `enoki kv`: a keygroup from the command line, as FReD's client tools give it: items with their
// values and versions, paged listings, writes the functions see, append-only keygroups kept
// append-only, and the node's error codes in the messages.

import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { runCli } from '../../helpers/cli-node.js';
import { guest, startTestNode, TOKEN, type TestNode } from '../../helpers/test-node.js';

const test = suite<{ n: TestNode }>('cli: enoki kv');

test.before(async (ctx) => {
  ctx.n = await startTestNode();
  assert.ok((await ctx.n.deploy('counter', await guest('counter'))).ok);
  assert.ok((await ctx.n.deploy('journal', await guest('hello'), '?immutable=true')).ok);
});
test.after(async (ctx) => {
  await ctx.n.close();
});

const kv = (n: TestNode, ...args: string[]) => runCli(['kv', ...args, '--url', n.url, '--token', TOKEN], { timeoutMs: 60_000 });

test('put, get, scan and rm an item; get shows each sibling with its version', async ({ n }) => {
  const put = await kv(n, 'put', 'counter', 'note', 'first');
  assert.is(put.code, 0, put.stderr);
  assert.is((await kv(n, 'put', 'counter', 'note', '-d', 'second')).code, 0);
  const get = await kv(n, 'get', 'counter', 'note');
  assert.is(get.code, 0, get.stderr);
  const item = JSON.parse(get.stdout) as { id: string; siblings: { value: string; version: Record<string, number> }[] };
  assert.is(item.siblings.length, 1);
  assert.is(item.siblings[0].value, 'second');
  assert.is(item.siblings[0].version[n.node.nodeId], 2, 'two writes on this node');

  const scan = JSON.parse((await kv(n, 'scan', 'counter')).stdout) as { items: { id: string; siblings: { value: string }[] }[] };
  assert.equal(scan.items.map((i) => [i.id, i.siblings[0].value]), [['note', 'second']]);

  assert.is((await kv(n, 'rm', 'counter', 'note')).code, 0);
  const gone = await kv(n, 'get', 'counter', 'note');
  assert.is(gone.code, 1);
  assert.match(gone.stderr, /\[ERR_ITEM_NOT_FOUND\]/);
});

test('a count set from the CLI is where the function goes on counting', async ({ n }) => {
  assert.is((await kv(n, 'put', 'counter', 'count', '99')).code, 0);
  assert.is(await (await n.call('counter', { method: 'POST' })).text(), '100');
  assert.is((JSON.parse((await kv(n, 'get', 'counter', 'count')).stdout) as { siblings: { value: string }[] }).siblings[0].value, '100');
});

test('ls lists keygroups, then item ids page by page up to --limit', async ({ n }) => {
  const groups = await kv(n, 'ls');
  assert.is(groups.code, 0, groups.stderr);
  assert.match(groups.stdout, /^counter$/m);
  assert.match(groups.stdout, /^journal {2}\(append-only\)$/m);
  for (const id of ['a1', 'a2', 'a3', 'a4', 'a5']) assert.is((await kv(n, 'put', 'counter', id, `v${id}`)).code, 0);
  const some = await kv(n, 'ls', 'counter', '--limit', '3');
  assert.equal(some.stdout.trim().split('\n'), ['a1', 'a2', 'a3']);
  assert.match(some.stderr, /more from a4/);
  const rest = await kv(n, 'ls', 'counter', '--start', 'a4');
  assert.equal(rest.stdout.trim().split('\n'), ['a4', 'a5', 'count']);
});

test('an append-only keygroup: put appends under a new decimal id, rm is refused', async ({ n }) => {
  const put = await kv(n, 'put', 'journal', '7', 'entry seven');
  assert.is(put.code, 0, put.stderr);
  assert.is((JSON.parse(put.stdout) as { appended: boolean }).appended, true);
  const again = await kv(n, 'put', 'journal', '7', 'other');
  assert.is(again.code, 1);
  assert.match(again.stderr, /\[ERR_ITEM_EXISTS\]/);
  const rm = await kv(n, 'rm', 'journal', '7');
  assert.is(rm.code, 1);
  assert.match(rm.stderr, /append-only.*\[ERR_WRONG_MUTABILITY\]/);
});

test('unknown keygroups and missing arguments are errors, not crashes', async ({ n }) => {
  const unknown = await kv(n, 'get', 'nope', 'x');
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, /\[ERR_KEYGROUP_NOT_FOUND\]/);
  const missing = await kv(n, 'put', 'counter', 'x');
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /missing the value/);
  const sub = await kv(n, 'frobnicate');
  assert.is(sub.code, 1);
  assert.match(sub.stderr, /unknown kv command "frobnicate"/);
});

test.run();
