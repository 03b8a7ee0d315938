// The instances of one function version in the inline engine (exec/inline/instance-pool.ts), seen
// through the engine: a call beyond the function's instances waits, within the engine's queue
// limit, and gets the instance when the call holding it ends; a nested call never waits; an
// evicted function's busy instance is not kept when its call ends; stopping the engine answers the
// waiting calls. The calls hold their instance by waiting for a key-value answer the test gives
// when it chooses (the guest is suspended through JSPI meanwhile). And a call resumed by an answer
// that came after its deadline is timed out, even if it ends before its deadline's watch fires.
// Needs JSPI (Node 24+).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import * as assert from 'uvu/assert';
import { EnokiError } from '../../../../runtime/errors.js';
import type { Job, JobResult } from '../../../../runtime/exec/engine.js';
import { InlineCode } from '../../../../runtime/exec/inline/inline-code.js';
import { InlineEngine } from '../../../../runtime/exec/inline/inline-engine.js';
import { hasJspi } from '../../../../runtime/exec/inline/jspi.js';
import { TemplateStore } from '../../../../runtime/exec/inline/templates.js';
import type { KvCall, KvReply } from '../../../../runtime/exec/protocol.js';
import { digestOf, type ArtifactMeta } from '../../../../runtime/functions/artifact-store.js';
import { guest } from '../../../helpers/test-node.js';
import { suite } from '../../../helpers/suite.js';

const test = suite<{ dir: string; meta: ArtifactMeta }>('exec: inline instance pool');

test.before(async (ctx) => {
  ctx.dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-pool-'));
  // counter: one `increment` per call, answered by the job's kv below.
  const bytes = await guest('counter');
  const digest = digestOf(bytes);
  await fs.mkdir(path.join(ctx.dir, 'components', digest), { recursive: true });
  await fs.writeFile(path.join(ctx.dir, 'components', digest, 'component.wasm'), bytes);
  ctx.meta = { digest, size: bytes.length, glueFile: '', coreFiles: [], imports: [] };
});
test.after(async (ctx) => fs.rm(ctx.dir, { recursive: true, force: true }));

function engine(dir: string): InlineEngine {
  const logger = pino({ level: 'silent' });
  const templates = new TemplateStore(path.join(dir, 'templates'), true, logger);
  const code = new InlineCode((digest) => path.join(dir, 'components', digest), templates);
  return new InlineEngine({ code, instancesPerCode: 1, maxQueue: 1, memoryBudgetBytes: 1 << 30, sliceMs: 5, logger });
}

/** A keygroup whose answers wait until `open()`; `asked` counts the calls that reached it. */
function gatedKv(): { kv: Job['kv']; open: () => void; asked: () => number } {
  let count = 0n;
  let asked = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const kv = async (call: KvCall): Promise<KvReply> => {
    asked++;
    await gate;
    if (call.op !== 'increment') return { ok: false, error: { tag: 'unavailable', val: call.op } };
    count += call.args[1] as bigint;
    return { ok: true, value: count };
  };
  return { kv, open: () => open(), asked: () => asked };
}

function job(meta: ArtifactMeta, kv: Job['kv'], nested = false, timeoutMs = 20_000): Job {
  return {
    instanceKey: `${meta.digest}:pool`,
    meta,
    loadSpec: () => Promise.reject(new Error('the inline engine loads its own code')),
    request: { method: 'GET', path: '/', query: '', headers: [], body: new Uint8Array(0) },
    env: [],
    timeoutMs,
    memoryLimitBytes: 128 * 2 ** 20,
    maxLogBytes: 64 * 1024,
    kv,
    nested,
  };
}

const body = (r: JobResult) => (r.failure ? `failure: ${r.failure.message}` : new TextDecoder().decode(r.response!.body));

/** Resolves once `cond` holds, checking at each turn of the loop. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

test('a call beyond the instances waits for the one in use; one beyond the queue is refused; a nested call does not wait', async ({ dir, meta }) => {
  const e = engine(dir);
  try {
    const held = gatedKv();
    const first = e.run(job(meta, held.kv));
    await until(() => held.asked() === 1, 'the first call holds the instance, waiting for its key-value answer');
    const second = e.run(job(meta, held.kv));
    await until(() => e.stats().queued === 1, 'the second call waits');
    const refused = await e.run(job(meta, held.kv)).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(refused instanceof EnokiError && refused.code === 'ERR_OVERLOADED', `refused with ${String(refused)}`);
    assert.is(held.asked(), 1, 'the waiting call has not run');
    // A nested call (its caller holds an instance) gets one made beyond the limit and answers now;
    // the instance it gives back goes to the waiting call.
    const free = gatedKv();
    free.open();
    const nested = await e.run(job(meta, free.kv, true));
    assert.is(body(nested), '1');
    assert.is(nested.cold, true);
    await until(() => held.asked() === 2, 'the waiting call runs on the instance the nested call gave back');
    assert.is(e.stats().queued, 0);
    held.open();
    const [a, b] = await Promise.all([first, second]);
    assert.is(body(a), '1');
    assert.is(body(b), '2');
    assert.is(b.cold, false, 'the waiting call ran on an instance given back');
    assert.ok(b.queuedMs > 0);
    assert.is(e.stats().warmInstances, 2, 'both instances kept');
  } finally {
    await e.stop();
  }
});

test('an evicted function keeps no instance, not even the one its running call gives back; its next call loads it again', async ({ dir, meta }) => {
  const e = engine(dir);
  try {
    const warm = gatedKv();
    warm.open();
    assert.is(body(await e.run(job(meta, warm.kv))), '1');
    assert.is(e.stats().warmInstances, 1);
    const held = gatedKv();
    const running = e.run(job(meta, held.kv));
    await until(() => held.asked() === 1, 'the call runs');
    e.evict(`${meta.digest}:pool`);
    held.open();
    assert.is(body(await running), '1');
    assert.is(e.stats().warmInstances, 0);
    // The next call loads the function again and keeps that instance.
    const again = gatedKv();
    again.open();
    const next = await e.run(job(meta, again.kv));
    assert.is(next.cold, true);
    assert.is(e.stats().warmInstances, 1);
  } finally {
    await e.stop();
  }
});

test('stopping the engine answers the calls still waiting for an instance', async ({ dir, meta }) => {
  const e = engine(dir);
  const held = gatedKv();
  const first = e.run(job(meta, held.kv));
  await until(() => held.asked() === 1, 'the first call holds the instance');
  const waiting = e.run(job(meta, held.kv)).then(
    () => undefined,
    (err: unknown) => err,
  );
  await until(() => e.stats().queued === 1, 'the second call waits');
  await e.stop();
  const err = await Promise.race([waiting, new Promise((r) => setTimeout(() => r('still waiting 10 s after the stop'), 10_000).unref())]);
  assert.ok(err instanceof EnokiError && err.code === 'ERR_SHUTTING_DOWN', `answered ${String(err)}`);
  held.open();
  assert.is(body(await first), '1', 'the running call ends as it would have');
});

test('a call whose wait ends after its deadline is timed out, though it could answer before the deadline is noticed', async ({ dir, meta }) => {
  const e = engine(dir);
  const timeoutMs = 300;
  /** Answers `increment` with 1, `late` ms after it is asked (the call's deadline ≤ asked + timeoutMs). */
  const answering = (late: (asked: number) => number): Job['kv'] => () =>
    new Promise<KvReply>((resolve) => {
      const asked = performance.now();
      // Just before the deadline's watch (a timer at the deadline + 1 ms) can run, a timer answers
      // at `late`: nothing else runs until the guest, resumed, has returned its response.
      setTimeout(() => {
        while (performance.now() < asked + late(asked)) {
          // past the deadline, still before its watch has had a turn
        }
        resolve({ ok: true, value: 1n });
      }, Math.max(0, late(0) - 5));
    });
  try {
    const inTime = await e.run(job(meta, answering(() => 50), false, timeoutMs));
    assert.is(body(inTime), '1', 'an answer in time is a success');
    const late = await e.run(job(meta, answering(() => timeoutMs + 0.5), false, timeoutMs));
    assert.is(late.failure?.kind, 'timeout', `a late answer: ${body(late)}`);
    assert.match(late.failure?.message ?? '', `timeout of ${timeoutMs} ms`);
  } finally {
    await e.stop();
  }
});

if (hasJspi) test.run();
else console.log(`SKIPPED: exec: inline instance pool — this Node (${process.version}) has no JSPI; the inline engine does not run here`);
