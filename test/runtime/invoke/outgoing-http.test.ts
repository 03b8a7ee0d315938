// A wasi:http guest's outgoing request as the node makes it, against a loopback server: the
// guest's request-options bound each phase (first byte, between bytes), the call's deadline bounds
// it all, the response comes as the server sent it (content coding and repeated headers kept), and
// hosts, methods and sizes the node refuses are error codes, not exceptions (but the allow-list).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import type { OutgoingHttpRequest, OutgoingHttpResult } from '../../../runtime/exec/protocol.js';
import { OutgoingHttpDenied, sendOutgoingHttp, type OutgoingHttpPolicy } from '../../../runtime/invoke/outgoing-http.js';

const test = suite<{ server: http.Server; base: string; host: string; seen: { method: string; headers: http.IncomingHttpHeaders; body: string }[] }>(
  'invoke: outgoing HTTP of wasi:http guests',
);

const GZIPPED = gzipSync('squeezed');

test.before(async (ctx) => {
  ctx.seen = [];
  ctx.server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      ctx.seen.push({ method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      const url = req.url ?? '/';
      if (url === '/late-head') return void setTimeout(() => res.end('late'), 400);
      if (url === '/gap') {
        res.write('first ');
        return void setTimeout(() => res.end('second'), 400);
      }
      if (url === '/gzip') return void res.writeHead(200, { 'content-encoding': 'gzip' }).end(GZIPPED);
      if (url === '/cookies') return void res.writeHead(200, [['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['x-Mixed-Case', 'yes']]).end();
      if (url === '/big') return void res.end(Buffer.alloc(2048, 120));
      if (url === '/cut') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('only some');
        return void setTimeout(() => res.socket?.destroy(), 20);
      }
      res.writeHead(201).end(`${req.method} ${url} ${Buffer.concat(chunks)}`);
    });
  });
  await new Promise<void>((resolve) => ctx.server.listen(0, '127.0.0.1', resolve));
  ctx.host = `127.0.0.1:${(ctx.server.address() as AddressInfo).port}`;
  ctx.base = `http://${ctx.host}`;
});

test.after(async (ctx) => {
  ctx.server.closeAllConnections();
  await new Promise((resolve) => ctx.server.close(resolve));
});

const policy = (host: string, over: Partial<OutgoingHttpPolicy> = {}): OutgoingHttpPolicy => ({
  allowedHosts: [host],
  maxBodyBytes: 1024,
  remainingMs: () => 10_000,
  ...over,
});

const get = (url: string, more: Partial<OutgoingHttpRequest> = {}): OutgoingHttpRequest => ({ method: 'GET', url, headers: [], ...more });

const text = (result: OutgoingHttpResult) => (result.ok ? `${result.status} ${Buffer.from(result.body).toString()}` : `error ${result.error.tag}`);

test('the request goes out with its method, headers and body; the answer comes back whole', async ({ base, host, seen }) => {
  const result = await sendOutgoingHttp(get(`${base}/echo?x=1`, { method: 'POST', headers: [['x-from-guest', 'yes'], ['host', 'forged']], body: new TextEncoder().encode('ping') }), policy(host));
  assert.is(text(result), '201 POST /echo?x=1 ping');
  const last = seen.at(-1)!;
  assert.is(last.headers['x-from-guest'], 'yes');
  assert.is(last.headers.host, host, 'the host header is the URL’s, not the guest’s');
  assert.is(last.headers['content-length'], '4');
});

test('a first-byte timeout shorter than the server takes to answer fails the request; a longer one does not', async ({ base, host }) => {
  const started = performance.now();
  assert.is(text(await sendOutgoingHttp(get(`${base}/late-head`, { timeouts: { firstByteMs: 100 } }), policy(host))), 'error connection-read-timeout');
  assert.ok(performance.now() - started < 350, 'it did not wait for the answer');
  assert.is(text(await sendOutgoingHttp(get(`${base}/late-head`, { timeouts: { firstByteMs: 2000 } }), policy(host))), '200 late');
});

test('a between-bytes timeout shorter than a pause in the body fails the request; a longer one does not', async ({ base, host }) => {
  assert.is(text(await sendOutgoingHttp(get(`${base}/gap`, { timeouts: { betweenBytesMs: 100 } }), policy(host))), 'error connection-read-timeout');
  assert.is(text(await sendOutgoingHttp(get(`${base}/gap`, { timeouts: { betweenBytesMs: 2000, connectMs: 2000 } }), policy(host))), '200 first second');
});

test("the call's deadline ends a request that outlives it", async ({ base, host }) => {
  const started = performance.now();
  const result = await sendOutgoingHttp(get(`${base}/late-head`), policy(host, { remainingMs: () => -1 }));
  assert.is(text(result), 'error connection-timeout');
  assert.ok(performance.now() - started < 100, 'nothing was sent after the deadline');
});

test('the response is as the server sent it: a gzip body stays gzip, repeated headers stay apart, names in lower case', async ({ base, host }) => {
  const zipped = await sendOutgoingHttp(get(`${base}/gzip`), policy(host));
  assert.ok(zipped.ok);
  assert.equal(Buffer.from(zipped.body), GZIPPED);
  assert.ok(zipped.headers.some(([name, value]) => name === 'content-encoding' && value === 'gzip'));
  const cookies = await sendOutgoingHttp(get(`${base}/cookies`), policy(host));
  assert.ok(cookies.ok);
  assert.equal(cookies.headers.filter(([name]) => name === 'set-cookie').map(([, v]) => v), ['a=1', 'b=2']);
  assert.ok(cookies.headers.some(([name]) => name === 'x-mixed-case'));
});

test('what the node refuses: a host off the allow-list (thrown), bodies over the limit, a cut-off answer, a bad URL', async ({ base, host }) => {
  await sendOutgoingHttp(get('http://127.0.0.1:9/x'), policy(host)).then(
    () => assert.unreachable('a host off the list was reached'),
    (err: unknown) => assert.instance(err, OutgoingHttpDenied),
  );
  assert.is(text(await sendOutgoingHttp(get(`${base}/big`), policy(host))), 'error HTTP-response-body-size');
  assert.is(text(await sendOutgoingHttp(get(`${base}/x`, { method: 'POST', body: new Uint8Array(2048) }), policy(host))), 'error HTTP-request-body-size');
  assert.is(text(await sendOutgoingHttp(get(`${base}/cut`), policy(host))), 'error HTTP-response-incomplete');
  assert.is(text(await sendOutgoingHttp(get('ftp://127.0.0.1/x'), policy(host))), 'error HTTP-protocol-error');
  assert.is(text(await sendOutgoingHttp(get(`${base}/x`, { method: 'BAD METHOD' }), policy(host))), 'error internal-error');
});

test('a refused connection is connection-refused', async ({ host }) => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const result = await sendOutgoingHttp(get(`http://127.0.0.1:${port}/`), policy(host, { allowedHosts: [host, `127.0.0.1:${port}`] }));
  assert.is(text(result), 'error connection-refused');
});

test.run();
