// AsyncInvocations with an injected clock and a temporary directory: results are claimed before
// anything runs, spilled to disk and streamed back, bounded in count, size, disk space and time,
// and kept across a restart.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { EnokiError } from '../../../runtime/errors.js';
import type { GuestResponse } from '../../../runtime/exec/protocol.js';
import { AsyncInvocations, type AsyncInvocationsOptions } from '../../../runtime/invoke/async-invocations.js';

const test = suite<{ dir: string }>('invoke: async invocations');
test.before.each(async (ctx) => {
  ctx.dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-async-'));
});
test.after.each(async (ctx) => {
  await fs.rm(ctx.dir, { recursive: true, force: true });
});

function deferred() {
  let resolve!: (r: GuestResponse) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<GuestResponse>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject, run: () => promise };
}

const response = (text: string, status = 201): GuestResponse => ({ status, headers: [['content-type', 'text/plain']], body: new TextEncoder().encode(text) });
/** Lets the result writes (a few file operations) finish. */
const settled = async (table: AsyncInvocations, id: string) => {
  for (let i = 0; i < 500 && table.get(id)?.state === 'running'; i++) await new Promise((r) => setTimeout(r, 5));
};
let n = 0;
const id = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;

async function open(dir: string, options: Partial<AsyncInvocationsOptions> = {}, clock = { now: 1000 }) {
  const table = new AsyncInvocations({
    dir,
    maxEntries: 10,
    ttlMs: 1000,
    maxResultBytes: 1024,
    diskBytes: 4096,
    sync: false,
    logger: pino({ level: 'silent' }),
    now: () => clock.now,
    sweepMs: 60_000,
    ...options,
  });
  await table.open();
  return { table, clock };
}

async function text(table: AsyncInvocations, invocation: string): Promise<string | undefined> {
  const result = await table.result(invocation);
  if (result?.state !== 'done') return undefined;
  return new Response(result.body).text();
}

test('running, then done: the body is on disk and streamed from there', async ({ dir }) => {
  const { table, clock } = await open(dir);
  const work = deferred();
  const a = id();
  await table.submit(a, 'counter', 'owner-tag', work.run);
  assert.equal(table.get(a), { state: 'running', fn: 'counter', owner: 'owner-tag', createdAt: 1000, finishedAt: undefined });
  assert.is(await table.result(a), undefined);
  clock.now = 1500;
  work.resolve(response('made'));
  await settled(table, a);
  assert.equal(table.get(a), { state: 'done', fn: 'counter', owner: 'owner-tag', createdAt: 1000, finishedAt: 1500 });
  assert.is(await fs.readFile(path.join(dir, `${a}.body`), 'utf8'), 'made');
  const result = await table.result(a);
  assert.is(result?.state === 'done' && result.status, 201);
  assert.equal(result?.state === 'done' && result.headers, [['content-type', 'text/plain']]);
  assert.is(await text(table, a), 'made');
  await table.close();
});

test('running, then failed: the error is kept with its code', async ({ dir }) => {
  const { table, clock } = await open(dir);
  const work = deferred();
  const a = id();
  await table.submit(a, 'misbehave', 'o', work.run);
  clock.now = 1200;
  work.reject(new EnokiError('ERR_GUEST_TRAP', 'unreachable executed'));
  await settled(table, a);
  const result = await table.result(a);
  assert.is(result?.state, 'failed');
  assert.is(result?.state === 'failed' && result.error.code, 'ERR_GUEST_TRAP');
  assert.is(result?.state === 'failed' && result.error.message, 'unreachable executed');
  assert.is(table.get(a)?.finishedAt, 1200);
  await table.close();
});

test('finished results expire after the TTL, files included; running ones never do', async ({ dir }) => {
  const { table, clock } = await open(dir, { ttlMs: 1000 });
  const done = deferred();
  const slow = deferred();
  const [d, s] = [id(), id()];
  await table.submit(d, 'f', 'o', done.run);
  await table.submit(s, 'f', 'o', slow.run);
  done.resolve(response('x'));
  await settled(table, d);
  clock.now = 2000; // exactly the TTL after finishing
  assert.is(table.get(d)?.state, 'done');
  clock.now = 2001;
  assert.is(table.get(d), undefined);
  for (let i = 0; i < 100 && (await fs.readdir(dir)).some((f) => f.startsWith(d)); i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal((await fs.readdir(dir)).filter((f) => f.startsWith(d)), []);
  clock.now = 1_000_000;
  assert.is(table.get(s)?.state, 'running');
  slow.resolve(response('late'));
  await settled(table, s);
  assert.is(table.get(s)?.state, 'done');
  await table.close();
});

test('a full table of running invocations refuses the next one, which never runs', async ({ dir }) => {
  const { table } = await open(dir, { maxEntries: 2, ttlMs: 60_000 });
  const a = deferred();
  const b = deferred();
  const [ia, ib, ic] = [id(), id(), id()];
  await table.submit(ia, 'f', 'o', a.run);
  await table.submit(ib, 'f', 'o', b.run);
  let ran = false;
  try {
    await table.submit(ic, 'f', 'o', async () => {
      ran = true;
      return response('no');
    });
    assert.unreachable('accepted a third invocation');
  } catch (err) {
    assert.is((err as EnokiError).code, 'ERR_OVERLOADED');
  }
  assert.is(ran, false);
  assert.is(table.get(ic), undefined);

  // A finished result makes room: the oldest finished one goes.
  b.resolve(response('b'));
  await settled(table, ib);
  await table.submit(ic, 'f', 'o', deferred().run);
  assert.is(table.get(ib), undefined);
  assert.is(table.get(ia)?.state, 'running');
  assert.is(table.get(ic)?.state, 'running');
  await table.close(0);
});

test('evicts finished results oldest first; reading one does not evict it', async ({ dir }) => {
  const { table } = await open(dir, { maxEntries: 3, ttlMs: 60_000 });
  const works = [deferred(), deferred(), deferred()];
  const ids = works.map(() => id());
  for (let i = 0; i < 3; i++) await table.submit(ids[i], 'f', 'o', works[i].run);
  works[0].resolve(response('0'));
  works[1].resolve(response('1'));
  await settled(table, ids[0]);
  await settled(table, ids[1]);
  assert.is(await text(table, ids[0]), '0');
  assert.is(await text(table, ids[0]), '0');
  const next = id();
  await table.submit(next, 'f', 'o', deferred().run);
  assert.is(table.get(ids[0]), undefined);
  assert.is(table.get(ids[1])?.state, 'done');
  assert.is(table.get(ids[2])?.state, 'running');
  await table.close(0);
});

test('a body over the size cap is not kept: the result says why', async ({ dir }) => {
  const { table } = await open(dir, { maxResultBytes: 10 });
  const a = id();
  await table.submit(a, 'big', 'o', async () => response('eleven byte'));
  await settled(table, a);
  const result = await table.result(a);
  assert.is(result?.state === 'failed' && result.error.code, 'ERR_ASYNC_RESULT_TOO_LARGE');
  assert.not.ok((await fs.readdir(dir)).includes(`${a}.body`));
  await table.close();
});

test('bodies stay within the disk budget: the oldest finished results make room', async ({ dir }) => {
  const { table } = await open(dir, { maxResultBytes: 100, diskBytes: 250, ttlMs: 60_000 });
  const ids = [id(), id(), id()];
  for (const one of ids) {
    await table.submit(one, 'f', 'o', async () => response('x'.repeat(100)));
    await settled(table, one);
  }
  assert.is(table.get(ids[0]), undefined, 'the oldest went');
  assert.is(await text(table, ids[1]), 'x'.repeat(100));
  assert.is(await text(table, ids[2]), 'x'.repeat(100));
  assert.is(table.stats().diskBytes, 200);
  await table.close();
});

test('a restart keeps finished results, reports running ones as interrupted and cleans leftovers', async ({ dir }) => {
  const clock = { now: 1000 };
  const first = await open(dir, { ttlMs: 10_000 }, clock);
  const [done, failed, running] = [id(), id(), id()];
  await first.table.submit(done, 'f', 'tag-a', async () => response('kept'));
  await first.table.submit(failed, 'f', 'tag-b', async () => {
    throw new EnokiError('ERR_TIMEOUT', 'too slow');
  });
  await first.table.submit(running, 'f', 'tag-c', () => new Promise<GuestResponse>(() => undefined));
  await settled(first.table, done);
  await settled(first.table, failed);
  await first.table.close(0);
  await fs.writeFile(path.join(dir, `${id()}.body`), 'orphan');
  await fs.writeFile(path.join(dir, `${done}.json.0123abcd.tmp`), 'half written');

  clock.now = 5000;
  const { table } = await open(dir, { ttlMs: 10_000 }, clock);
  assert.is(table.get(done)?.owner, 'tag-a');
  assert.is(await text(table, done), 'kept');
  const f = await table.result(failed);
  assert.is(f?.state === 'failed' && f.error.code, 'ERR_TIMEOUT');
  const r = await table.result(running);
  assert.is(r?.state === 'failed' && r.error.code, 'ERR_INVOCATION_INTERRUPTED');
  assert.equal((await fs.readdir(dir)).sort(), [done, failed, running].flatMap((x) => (x === done ? [`${x}.body`, `${x}.json`] : [`${x}.json`])).sort());
  await table.close();

  // Past their TTL, a restart drops them.
  clock.now = 100_000;
  const later = await open(dir, { ttlMs: 10_000 }, clock);
  assert.is(later.table.get(done), undefined);
  assert.equal(await fs.readdir(dir), []);
  await later.table.close();
});

test.run();
