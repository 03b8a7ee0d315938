// Outgoing HTTP from a function of Enoki's world: a JS guest built with the `http` feature (its
// component imports wasi:http types and outgoing-handler, as componentize-js builds by default)
// deploys, reaches a host of its allow-list, and is refused any other before anything is sent,
// the refusal in its log. On Node 24 it runs on the event loop, on Node 20 on a worker.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { guest, startTestNode, type TestNode } from '../../helpers/test-node.js';

const test = suite<{ n: TestNode; upstream: http.Server; url: string; seen: string[] }>('http: fetch from a function of Enoki\'s world');

test.before(async (ctx) => {
  ctx.seen = [];
  ctx.upstream = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
      ctx.seen.push(`${req.method} ${req.url} ${req.headers['x-from']}`);
      res.writeHead(201).end(`got ${Buffer.concat(chunks)}`);
    });
  });
  await new Promise<void>((resolve) => ctx.upstream.listen(0, '127.0.0.1', resolve));
  const { port } = ctx.upstream.address() as AddressInfo;
  ctx.url = `http://127.0.0.1:${port}/hook`;
  ctx.n = await startTestNode({ workers: 1 });
  const bytes = await guest('fixtures/fetcher.wasm');
  for (const [name, query] of [['fetcher', `?allowHost=127.0.0.1:${port}`], ['closed', '']]) {
    const res = await ctx.n.deploy(name, bytes, query);
    const answer = await res.json();
    assert.is(res.status, 201, JSON.stringify(answer));
    assert.is(answer.world, 'enoki:faas/function');
  }
});
test.after(async (ctx) => {
  await ctx.n.close();
  await new Promise((resolve) => ctx.upstream.close(resolve));
});

async function call(n: TestNode, name: string, target: string): Promise<string> {
  const res = await n.call(name, { method: 'POST', body: target });
  const body = await res.text();
  assert.is(res.status, 200, body);
  return body;
}

test('a host of the allow-list is reached with the guest\'s method, header and body', async ({ n, url, seen }) => {
  assert.is(await call(n, 'fetcher', url), '201 got from js');
  assert.equal(seen, ['POST /hook js']);
});

test('another host is refused before anything is sent; the log says why', async ({ n, url, seen }) => {
  const before = seen.length;
  assert.match(await call(n, 'fetcher', 'http://127.0.0.1:9/elsewhere'), /^fetch failed: TypeError/);
  assert.match(await call(n, 'closed', url), /^fetch failed: TypeError/, 'no allow-list: no host');
  assert.is(seen.length, before, 'nothing reached the upstream');
  const { invocations } = await (await n.admin('GET', '/functions/closed/logs?limit=1')).json();
  const lines = (invocations[0].lines as { message: string }[]).map((l) => l.message);
  assert.ok(lines.some((l) => l.startsWith('ERR_HTTP_HOST_NOT_ALLOWED')), lines.join('\n'));
});

test.run();
