// The node's HTTP server adapter seen from a client: what goes on the wire for each kind of body,
// backpressure and cancellation of streamed bodies, bad request heads, body limits, aborts.
import { suite } from '../../../helpers/suite.js';
import * as assert from 'uvu/assert';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { errorResponse, tooLarge } from '../../../../runtime/http/respond.js';
import { limitBody } from '../../../../runtime/http/server/limit-body.js';
import { serveHttp } from '../../../../runtime/http/server/serve.js';

const CHUNK = 256 * 1024;
const CHUNKS = 200;

interface State {
  server?: http.Server;
  port: number;
  pulls: number;
  cancelled: boolean;
  aborted: Promise<string>;
  writeErrors: unknown[];
}

const s = suite<State>('http server adapter', { port: 0, pulls: 0, cancelled: false, aborted: Promise.resolve(''), writeErrors: [] });

s.before(async (state) => {
  const app = new Hono();
  app.onError((err, c) => errorResponse(c, err));
  app.get('/text', (c) => c.text('héllo'));
  app.get('/bytes', (c) => c.body(new Uint8Array([1, 2, 3])));
  app.get('/cookies', (c) => {
    c.header('set-cookie', 'a=1', { append: true });
    c.header('set-cookie', 'b=2', { append: true });
    return c.text('two cookies');
  });
  app.get('/stream', () => {
    state.pulls = 0;
    state.cancelled = false;
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          state.pulls++;
          controller.enqueue(new Uint8Array(CHUNK).fill(state.pulls % 256));
          if (state.pulls === CHUNKS) controller.close();
        },
        cancel() {
          state.cancelled = true;
        },
      },
      { highWaterMark: 1 },
    );
    return new Response(stream, { headers: { 'content-type': 'application/octet-stream' } });
  });
  app.get('/broken', () => {
    let sent = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) controller.error(new Error('the source failed'));
        else controller.enqueue(new TextEncoder().encode('first part'));
        sent = true;
      },
    });
    return new Response(stream);
  });
  app.put('/limited', limitBody(1000, () => tooLarge(1000, 'the test body')), async (c) => c.text(String((await c.req.arrayBuffer()).byteLength)));
  app.get('/abort', (c) => {
    state.aborted = new Promise((resolve) => c.req.raw.signal.addEventListener('abort', () => resolve('aborted')));
    return new Promise<Response>(() => undefined);
  });
  app.get('/unwritable', () => Response.error());
  state.server = await serveHttp(app.fetch, { port: 0, hostname: '127.0.0.1', onError: (err) => state.writeErrors.push(err) });
  state.port = (state.server.address() as AddressInfo).port;
});

s.after(async (state) => {
  state.server?.closeAllConnections();
  await new Promise((resolve) => state.server?.close(resolve));
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

function request(port: number, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A raw request head on a fresh connection; resolves with everything the server sent. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(text));
    let out = '';
    socket.on('data', (d) => (out += d));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
}

s('text and byte bodies go out with their length; a body without a type is sent as UTF-8 text', async ({ port }) => {
  const text = await request(port, 'GET', '/text');
  assert.is(text.body.toString(), 'héllo');
  assert.is(text.headers['content-length'], String(Buffer.byteLength('héllo')));
  assert.is(text.headers['content-type'], 'text/plain; charset=UTF-8');
  assert.is(text.headers['transfer-encoding'], undefined);
  const bytes = await request(port, 'GET', '/bytes');
  assert.equal([...bytes.body], [1, 2, 3]);
  assert.is(bytes.headers['content-length'], '3');
  assert.is(bytes.headers['content-type'], 'text/plain; charset=UTF-8');
});

s('each set-cookie value is a header line of its own', async ({ port }) => {
  const answer = await request(port, 'GET', '/cookies');
  const cookies = answer.rawHeaders.filter((_, i) => i % 2 === 0 && answer.rawHeaders[i].toLowerCase() === 'set-cookie').length;
  assert.is(cookies, 2);
  assert.equal(answer.headers['set-cookie'], ['a=1', 'b=2']);
});

s('HEAD answers a GET route with its status and headers and no body', async ({ port }) => {
  const answer = await request(port, 'HEAD', '/text');
  assert.is(answer.status, 200);
  assert.is(answer.headers['content-type'], 'text/plain; charset=UTF-8');
  assert.is(answer.body.length, 0);
});

s('a streamed body is read only as fast as the client takes it, and arrives whole', async (state) => {
  const { port } = state;
  const total = await new Promise<number>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/stream', agent: false }, (res) => {
      res.pause();
      // The client reads nothing for a while: the server stops pulling once the socket is full.
      setTimeout(() => {
        assert.ok(state.pulls < CHUNKS / 2, `${state.pulls} of ${CHUNKS} chunks pulled while the client read nothing`);
        let n = 0;
        res.on('data', (chunk: Buffer) => (n += chunk.length));
        res.on('end', () => resolve(n));
        res.on('error', reject);
        res.resume();
      }, 300);
    }).on('error', reject);
  });
  assert.is(total, CHUNK * CHUNKS);
  assert.is(state.pulls, CHUNKS);
  assert.not.ok(state.cancelled);
});

s('a client that goes away cancels the stream it was sent', async (state) => {
  await new Promise<void>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: state.port, path: '/stream', agent: false }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', () => undefined);
    setTimeout(() => reject(new Error('no data')), 5000);
  });
  for (let i = 0; i < 50 && !state.cancelled; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(state.cancelled, 'the stream was cancelled');
  assert.ok(state.pulls < CHUNKS, `${state.pulls} chunks pulled`);
});

s('a stream that fails midway cuts the connection: the client never sees a whole response', async ({ port }) => {
  const outcome = await new Promise<string>((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path: '/broken', agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(res.complete ? `complete: ${body}` : `cut after: ${body}`));
        res.on('error', () => resolve(`cut after: ${body}`));
        res.on('aborted', () => resolve(`cut after: ${body}`));
      })
      .on('error', (err) => resolve(`error: ${err.message}`));
  });
  assert.match(outcome, /^cut after: (first part)?$/);
});

s('a Host header that is not a host, or a target that is not a path, is answered 400 and the server goes on', async ({ port }) => {
  for (const head of [
    'GET /text HTTP/1.1\r\nHost: evil.example/other\r\nConnection: close\r\n\r\n',
    'GET /text HTTP/1.1\r\nHost: a@b\r\nConnection: close\r\n\r\n',
    'GET * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
  ]) {
    const answer = await raw(port, head);
    assert.match(answer, /^HTTP\/1\.1 400 /, head);
    assert.match(answer, /"code":"ERR_BAD_REQUEST"/, head);
  }
  // The absolute form and a host with a port are fine.
  assert.match(await raw(port, `GET http://localhost:${port}/text HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`), /^HTTP\/1\.1 200 [^]*héllo$/);
  assert.match(await raw(port, 'GET /text HTTP/1.1\r\nHost: [::1]:80\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /);
  assert.is((await request(port, 'GET', '/text')).status, 200);
});

s('a limited route takes a body up to its limit and refuses a larger one, declared or chunked', async ({ port }) => {
  const ok = await request(port, 'PUT', '/limited', Buffer.alloc(1000));
  assert.is(ok.body.toString(), '1000');
  const declared = await request(port, 'PUT', '/limited', Buffer.alloc(1001));
  assert.is(declared.status, 413);
  assert.is(JSON.parse(declared.body.toString()).error.code, 'ERR_BODY_TOO_LARGE');
  const chunked = await request(port, 'PUT', '/limited', Buffer.alloc(5000), { 'transfer-encoding': 'chunked' });
  assert.is(chunked.status, 413);
  assert.is((await request(port, 'GET', '/text')).status, 200);
});

s('a request whose client went away is aborted', async (state) => {
  await new Promise<void>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: state.port, path: '/abort', agent: false });
    req.on('error', () => undefined);
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 100);
  });
  const result = await Promise.race([state.aborted, new Promise<string>((r) => setTimeout(() => r('not aborted'), 3000))]);
  assert.is(result, 'aborted');
});

s('a response that cannot be written is answered 500 and reported; the server goes on', async (state) => {
  const answer = await request(state.port, 'GET', '/unwritable');
  assert.is(answer.status, 500);
  assert.is(JSON.parse(answer.body.toString()).error.code, 'ERR_INTERNAL');
  assert.is(state.writeErrors.length, 1);
  assert.is((await request(state.port, 'GET', '/text')).status, 200);
});

s.run();
