// AsyncInvocations with an injected clock: state transitions, TTL of finished results, and the cap.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EnokiError } from '../../../runtime/errors.js';
import type { GuestResponse } from '../../../runtime/exec/protocol.js';
import { AsyncInvocations } from '../../../runtime/invoke/async-invocations.js';

function deferred() {
  let resolve!: (r: GuestResponse) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<GuestResponse>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const RESPONSE: GuestResponse = { status: 201, headers: [['content-type', 'text/plain']], body: new TextEncoder().encode('made') };
const settled = () => new Promise((r) => setImmediate(r));

function setup(maxEntries = 10, ttlMs = 1000) {
  const clock = { now: 1000 };
  return { clock, table: new AsyncInvocations(maxEntries, ttlMs, () => clock.now) };
}

test('running, then done with the response and the finish time', async () => {
  const { clock, table } = setup();
  const work = deferred();
  assert.ok(table.track('a', work.promise));
  assert.equal(table.get('a'), { state: 'running', createdAt: 1000 });
  clock.now = 1500;
  work.resolve(RESPONSE);
  await settled();
  assert.equal(table.get('a'), { state: 'done', createdAt: 1000, finishedAt: 1500, response: RESPONSE });
  assert.is(table.get('unknown'), undefined);
});

test('running, then failed with the error', async () => {
  const { clock, table } = setup();
  const work = deferred();
  table.track('a', work.promise);
  clock.now = 1200;
  const error = new EnokiError('ERR_GUEST_TRAP', 'unreachable executed');
  work.reject(error);
  await settled();
  const state = table.get('a');
  assert.is(state?.state, 'failed');
  assert.is(state?.state === 'failed' && state.error, error);
  assert.is(state?.state === 'failed' && state.finishedAt, 1200);
});

test('finished results expire after the TTL; running ones never do', async () => {
  const { clock, table } = setup(10, 1000);
  const done = deferred();
  const slow = deferred();
  table.track('done', done.promise);
  table.track('slow', slow.promise);
  done.resolve(RESPONSE);
  await settled();
  clock.now = 2000; // exactly the TTL after finishing
  assert.is(table.get('done')?.state, 'done');
  clock.now = 2001;
  assert.is(table.get('done'), undefined);
  clock.now = 1_000_000;
  assert.is(table.get('slow')?.state, 'running');
  slow.resolve(RESPONSE);
  await settled();
  assert.is(table.get('slow')?.state, 'done');
});

test('when full, the oldest finished result makes room; only a table of running ones refuses', async () => {
  const { table } = setup(2, 60_000);
  const a = deferred();
  const b = deferred();
  assert.ok(table.track('a', a.promise));
  assert.ok(table.track('b', b.promise));
  assert.not.ok(table.track('c', deferred().promise));
  assert.is(table.get('c'), undefined);

  b.resolve(RESPONSE);
  await settled();
  assert.ok(table.track('c', deferred().promise));
  assert.is(table.get('b'), undefined);
  assert.is(table.get('a')?.state, 'running');
  assert.is(table.get('c')?.state, 'running');
});

test('evicts finished results oldest first', async () => {
  const { table } = setup(3, 60_000);
  const works = [deferred(), deferred(), deferred()];
  works.forEach((w, i) => table.track(`r${i}`, w.promise));
  works[0].resolve(RESPONSE);
  works[1].resolve(RESPONSE);
  await settled();
  assert.ok(table.track('r3', deferred().promise));
  assert.is(table.get('r2')?.state, 'running');
  assert.is(table.get('r3')?.state, 'running');
  assert.is(table.get('r0'), undefined);
});

test('reading a finished result from a full table does not evict it', async () => {
  const { table } = setup(2, 60_000);
  const a = deferred();
  table.track('a', a.promise);
  table.track('b', deferred().promise);
  a.resolve(RESPONSE);
  await settled();
  assert.is(table.get('a')?.state, 'done');
  assert.is(table.get('a')?.state, 'done');
});

test.run();
