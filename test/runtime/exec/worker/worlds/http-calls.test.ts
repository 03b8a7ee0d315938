// The worker side of a wasi:http call: responses are checked as the guest produces them (set,
// finished, matching their content-length) and streamed or collected; instances are made ahead
// and a request waits at most for the one being made.
import { test } from '../../../../helpers/suite.js';
import * as assert from 'uvu/assert';
import type { GuestEvent } from '../../../../../runtime/exec/protocol.js';
import { SPARE_INSTANCES, SparePool, type HttpInstance } from '../../../../../runtime/exec/worker/worlds/http-calls.js';
import { CallResponse, FLOW_WINDOW_BYTES } from '../../../../../runtime/exec/wasi-http/call-response.js';
import { HeldBodyOverflow } from '../../../../../runtime/exec/wasi-http/held-body.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const LIMIT = 2 ** 20;

test('a collected response has the head and every chunk', () => {
  const r = new CallResponse(false, () => assert.unreachable('nothing is posted'), false, LIMIT);
  r.head(201, [['x-a', '1']]);
  r.chunk(bytes('hel'));
  r.chunk(bytes('lo'));
  r.end();
  assert.is(r.problem(true), undefined);
  const res = r.response();
  assert.is(res.status, 201);
  assert.equal(res.headers, [['x-a', '1']]);
  assert.is(new TextDecoder().decode(res.body), 'hello');
});

test('a response is sent whole unless the guest waits or writes much; then it streams from there on', () => {
  const whole: GuestEvent[] = [];
  const quick = new CallResponse(true, (e) => whole.push(e), false, LIMIT);
  quick.head(200, []);
  quick.chunk(bytes('a'));
  quick.end();
  assert.equal(whole, [], 'a guest that never waited posts nothing before its end');
  assert.is(new TextDecoder().decode(quick.response().body), 'a');

  const events: GuestEvent[] = [];
  const slow = new CallResponse(true, (e) => events.push(e), true, LIMIT);
  slow.head(200, []);
  slow.chunk(bytes('a'));
  slow.startStreaming(); // what the worker does when the guest is about to wait
  slow.chunk(bytes('b'));
  slow.end();
  assert.equal(events.map((e) => e.kind), ['head', 'chunk', 'chunk']);
  assert.is((events[0] as Extract<GuestEvent, { kind: 'head' }>).cold, true);
  assert.is(slow.response().body.byteLength, 0, 'the body went out as it came');

  const big: GuestEvent[] = [];
  const large = new CallResponse(true, (e) => big.push(e), false, LIMIT);
  large.head(200, []);
  large.chunk(new Uint8Array(70 * 1024));
  assert.equal(big.map((e) => e.kind), ['head', 'chunk'], 'a large body streams without waiting for the end');

  const never: GuestEvent[] = [];
  const collected = new CallResponse(false, (e) => never.push(e), false, LIMIT);
  collected.head(200, []);
  collected.chunk(new Uint8Array(70 * 1024));
  collected.startStreaming();
  assert.equal(never, [], 'a call that is not streamed never posts');
});

test('flow control: a streaming guest may be a window ahead of its client; the answers to its chunks let it write on', async () => {
  const posted: GuestEvent[] = [];
  const r = new CallResponse(true, (e) => posted.push(e), false, LIMIT);
  r.head(200, []);
  assert.is(r.permit(), FLOW_WINDOW_BYTES, 'before any body');
  r.chunk(new Uint8Array(40 * 1024));
  assert.is(r.permit(), FLOW_WINDOW_BYTES - 40 * 1024, 'what it holds before it streams counts');
  r.startStreaming();
  for (let i = 0; i < 15; i++) r.chunk(new Uint8Array(64 * 1024));
  assert.is(r.permit(), FLOW_WINDOW_BYTES - 40 * 1024 - 15 * 64 * 1024);
  r.chunk(new Uint8Array(24 * 1024));
  assert.is(r.permit(), 0, 'a window written, none taken: no more');
  let woke = false;
  const waiting = r.whenPermitted().then(() => (woke = true));
  await Promise.resolve();
  assert.not.ok(woke);
  r.taken(40 * 1024);
  await waiting;
  assert.is(r.permit(), 40 * 1024, 'what the client took may be written again');
  // The client leaves: every wait ends, and the response counts as answered however it ends.
  r.chunk(new Uint8Array(40 * 1024));
  assert.is(r.permit(), 0);
  r.taken(0, true);
  assert.ok(r.closed());
  assert.is(r.permit(), Infinity);
  assert.is(r.problem(true), undefined, 'a body left unfinished after its client left is no fault of the guest');
  // A response taken whole is bounded by its held limit, not by a client.
  const whole = new CallResponse(false, () => undefined, false, LIMIT);
  whole.head(200, []);
  whole.chunk(new Uint8Array(2 * FLOW_WINDOW_BYTES / 4));
  assert.is(whole.permit(), Infinity);
});

test('malformed responses are named: not set, not finished, failed, too short or too long for their content-length', () => {
  assert.match(new CallResponse(false, () => undefined, false, LIMIT).problem(false) ?? '', 'without setting a response');
  const open = new CallResponse(false, () => undefined, false, LIMIT);
  open.head(200, []);
  assert.match(open.problem(true) ?? '', 'before finishing');
  const failed = new CallResponse(false, () => undefined, false, LIMIT);
  failed.head(200, []);
  failed.fail('the body was dropped before it was finished');
  assert.match(failed.problem(true) ?? '', 'dropped');
  const short = new CallResponse(false, () => undefined, false, LIMIT);
  short.head(200, [['content-length', '10']]);
  short.chunk(bytes('four'));
  short.end();
  assert.match(short.problem(true) ?? '', 'content-length says 10');
  const posted: GuestEvent[] = [];
  const long = new CallResponse(true, (e) => posted.push(e), false, LIMIT);
  long.head(200, [['content-length', '2']]);
  long.startStreaming();
  long.chunk(bytes('abc'));
  assert.match(long.problem(true) ?? '', 'longer than its content-length');
  assert.equal(posted.map((e) => e.kind), ['head'], 'the excess is not sent');
  const bad = new CallResponse(false, () => undefined, false, LIMIT);
  bad.head(200, [['content-length', 'ten']]);
  assert.match(bad.problem(true) ?? '', 'malformed content-length');
});

test('a response without content (to HEAD; 304) may state the length a GET would get', () => {
  const head = new CallResponse(false, () => undefined, false, LIMIT, 'HEAD');
  head.head(200, [['content-length', '100']]);
  head.end();
  assert.is(head.problem(true), undefined);
  const notModified = new CallResponse(false, () => undefined, false, LIMIT, 'GET');
  notModified.head(304, [['content-length', '100']]);
  notModified.end();
  assert.is(notModified.problem(true), undefined);
  const malformed = new CallResponse(false, () => undefined, false, LIMIT, 'HEAD');
  malformed.head(200, [['content-length', 'many']]);
  assert.match(malformed.problem(true) ?? '', 'malformed content-length');
  const get = new CallResponse(false, () => undefined, false, LIMIT, 'GET');
  get.head(200, [['content-length', '100']]);
  get.end();
  assert.match(get.problem(true) ?? '', 'content-length says 100');
});

test('a collected body past the limit fails the response and lets go of what it held', () => {
  const whole = new CallResponse(false, () => undefined, false, 10);
  whole.head(200, []);
  whole.chunk(bytes('12345678'));
  assert.throws(() => whole.chunk(bytes('12345678')), (err: unknown) => err instanceof HeldBodyOverflow && err.failure === 'bad-response');
  whole.chunk(bytes('more'));
  whole.end();
  assert.match(whole.problem(true) ?? '', 'more than 10 bytes of its response body for a caller that takes the response whole');
  assert.is(whole.response().body.byteLength, 0);
  // A streamed body is passed on, not held: no limit applies to it here.
  const posted: GuestEvent[] = [];
  const streamed = new CallResponse(true, (e) => posted.push(e), false, 10);
  streamed.head(200, []);
  streamed.startStreaming();
  for (let i = 0; i < 4; i++) streamed.chunk(bytes('12345678'));
  streamed.end();
  assert.is(streamed.problem(true), undefined);
  assert.is(posted.length, 5);
});

function instance(id: number): HttpInstance {
  return { handle: () => id, memoryBytes: () => 1, release: () => undefined };
}

test('spares: a call takes a ready instance; refill makes SPARE_INSTANCES ahead; a taker waits only for the next one', async () => {
  let made = 0;
  const gates: (() => void)[] = [];
  const pool = new SparePool(async () => {
    await new Promise<void>((resolve) => gates.push(resolve));
    return instance(++made);
  });
  pool.refill();
  await new Promise((r) => setImmediate(r));
  // The first instance is being made: a taker gets it as soon as it is made, marked cold.
  const taking = pool.take();
  gates.shift()!();
  const first = await taking;
  assert.is(first.cold, true);
  assert.is(first.instance.handle(undefined, undefined), 1);
  for (let i = 0; i < SPARE_INSTANCES; i++) {
    await new Promise((r) => setImmediate(r));
    gates.shift()!();
  }
  await new Promise((r) => setImmediate(r));
  assert.is(pool.memoryBytes(), SPARE_INSTANCES, `${SPARE_INSTANCES} ready`);
  const second = await pool.take();
  assert.is(second.cold, false);
});

test('a load that fails reaches the taker waiting for it, and the next take tries again', async () => {
  let calls = 0;
  const pool = new SparePool(async () => {
    calls++;
    if (calls === 1) throw new Error('bad glue');
    return instance(calls);
  });
  pool.refill();
  const failure = await pool.take().then(
    () => undefined,
    (err: Error) => err,
  );
  assert.match(failure?.message ?? '', 'bad glue');
  const { instance: next } = await pool.take();
  assert.is(next.handle(undefined, undefined), 2);
});

test.run();
