// The delay proxies of the paper experiments: each direction is held for at least the configured
// delay, bytes arrive complete and in order, half-closes pass through, and a CONNECT tunnel gets
// the delay chosen for its destination. Only lower bounds on time are asserted (plus a generous
// ceiling that only a broken scheduler would exceed): this machine is shared and noisy.
import net from 'node:net';
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { DelayScheduler, startConnectProxy, startDelayProxy, type RunningProxy } from '../../bench/paper/delay-proxy.js';

const test = suite('bench: delay proxy');
const DELAY = 15;
/** Timers may fire a hair early by the millisecond clock they run on. */
const EPSILON = 0.5;
const CEILING = 2000;

const closers: Array<() => Promise<void>> = [];
test.after.each(async () => {
  while (closers.length > 0) await closers.pop()!();
});

/** An echo server (it ends its side when the client ends). */
async function echoServer(): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  return (server.address() as net.AddressInfo).port;
}

function track(proxy: RunningProxy): RunningProxy {
  closers.push(() => proxy.close());
  return proxy;
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  closers.push(async () => void socket.destroy());
  return socket;
}

/** Resolves with the bytes received once `n` of them arrived. */
function receive(socket: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= n) {
        socket.off('data', onData);
        resolve(Buffer.concat(chunks));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

test('a round trip through the proxy takes at least two delays, the first one also the handshake', async () => {
  const scheduler = new DelayScheduler();
  const proxy = track(await startDelayProxy({ target: { host: '127.0.0.1', port: await echoServer() }, delayMs: DELAY, scheduler }));
  const started = performance.now();
  const socket = await connect(proxy.port);
  const echoed = receive(socket, 5);
  socket.write('hello');
  assert.is((await echoed).toString(), 'hello');
  const first = performance.now() - started;
  // SYN and SYN-ACK (one round trip), then the data there and back.
  assert.ok(first >= 4 * DELAY - EPSILON, `first round trip ${first.toFixed(2)} ms < ${4 * DELAY} ms`);
  assert.ok(first < 4 * DELAY + CEILING, `first round trip ${first.toFixed(2)} ms`);
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const again = receive(socket, 3);
    socket.write('abc');
    assert.is((await again).toString(), 'abc');
    const rtt = performance.now() - t;
    assert.ok(rtt >= 2 * DELAY - EPSILON, `round trip ${rtt.toFixed(2)} ms < ${2 * DELAY} ms`);
    assert.ok(rtt < 2 * DELAY + CEILING, `round trip ${rtt.toFixed(2)} ms`);
  }
  assert.ok(scheduler.stats().jobs >= 12);
});

test('bytes arrive complete and in order, written in bursts and trickles, large and small', async () => {
  const scheduler = new DelayScheduler();
  const proxy = track(await startDelayProxy({ target: { host: '127.0.0.1', port: await echoServer() }, delayMs: 2, scheduler }));
  const socket = await connect(proxy.port);
  const parts: Buffer[] = [];
  for (let i = 0; i < 400; i++) parts.push(Buffer.from(`<${i}:${'x'.repeat(i % 37)}>`));
  parts.push(Buffer.alloc(3 * 1024 * 1024, 7)); // past a socket buffer: backpressure on both legs
  for (let i = 400; i < 600; i++) parts.push(Buffer.from(`<${i}>`));
  const sent = Buffer.concat(parts);
  const echoed = receive(socket, sent.length);
  for (const [i, part] of parts.entries()) {
    socket.write(part);
    if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  const got = await echoed;
  assert.is(got.length, sent.length);
  assert.ok(got.equals(sent), 'the echoed stream differs from the one sent');
});

test('a half-close passes through after the data, and the other side can still answer', async () => {
  const scheduler = new DelayScheduler();
  const proxy = track(await startDelayProxy({ target: { host: '127.0.0.1', port: await echoServer() }, delayMs: DELAY, scheduler }));
  const socket = await connect(proxy.port);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve) => socket.once('end', resolve));
  const t = performance.now();
  socket.end('last words');
  await ended; // the echo server ends its side when it sees ours
  const elapsed = performance.now() - t;
  assert.is(Buffer.concat(chunks).toString(), 'last words');
  assert.ok(elapsed >= 2 * DELAY - EPSILON, `end came back after ${elapsed.toFixed(2)} ms`);
});

test('a CONNECT tunnel opens after a round trip of its destination delay, and carries bytes with it', async () => {
  const scheduler = new DelayScheduler();
  const echo = await echoServer();
  const asked: string[] = [];
  const proxy = track(
    await startConnectProxy({
      delayFor: (host, port) => {
        asked.push(`${host}:${port}`);
        return port === echo ? DELAY : undefined;
      },
      scheduler,
    }),
  );
  const socket = await connect(proxy.port);
  const t = performance.now();
  const answer = receive(socket, 1);
  socket.write(`CONNECT 127.0.0.1:${echo} HTTP/1.1\r\nHost: 127.0.0.1:${echo}\r\n\r\n`);
  const head = (await answer).toString();
  const opened = performance.now() - t;
  assert.match(head, /^HTTP\/1\.1 200 /);
  assert.ok(opened >= 2 * DELAY - EPSILON, `tunnel opened after ${opened.toFixed(2)} ms`);
  assert.equal(asked, [`127.0.0.1:${echo}`]);

  const t2 = performance.now();
  const echoed = receive(socket, 4);
  socket.write('ping');
  assert.is((await echoed).toString(), 'ping');
  const rtt = performance.now() - t2;
  assert.ok(rtt >= 2 * DELAY - EPSILON, `round trip in the tunnel ${rtt.toFixed(2)} ms`);

  const refused = await connect(proxy.port);
  const no = receive(refused, 12);
  refused.write('CONNECT 127.0.0.1:1 HTTP/1.1\r\n\r\n');
  assert.match((await no).toString(), /^HTTP\/1\.1 403 /);
});

test('the scheduler runs jobs with equal due times in the order they were scheduled', async () => {
  const scheduler = new DelayScheduler();
  const ran: number[] = [];
  const due = performance.now() + 5;
  await new Promise<void>((resolve) => {
    for (let i = 0; i < 100; i++) scheduler.schedule(due + (i % 3 === 0 ? 1 : 0), () => {
      ran.push(i);
      if (ran.length === 100) resolve();
    });
  });
  const equalFirst = Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 3 !== 0);
  const later = Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 3 === 0);
  assert.equal(ran, [...equalFirst, ...later]);
  assert.ok(scheduler.stats().p50 >= 0);
});

test.run();
