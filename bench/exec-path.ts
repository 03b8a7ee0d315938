// Where warm invocation time goes, below HTTP: a call through the inline engine (guests on the
// event loop, metered; Node 24 and later) for the tiny guest, echo (without headers and with the
// eight a fetch client sends: the guest lifts each in its interpreter), and movingaverage with an
// in-memory KV whose scan answers asynchronously as the node's does (the guest suspends through
// JSPI) and, for comparison, synchronously; then the worker engine's synchronous KV round trip
// from a worker to the main thread and a call through the worker pool (main → worker → guest →
// main). Prints p50, mean and p99 in µs.
//
//   node dist/bench/exec-path.js [--calls 5000]

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { CodeCache } from '../runtime/exec/worker/code-cache.js';
import type { Job } from '../runtime/exec/engine.js';
import { InlineCode } from '../runtime/exec/inline/inline-code.js';
import { InlineEngine } from '../runtime/exec/inline/inline-engine.js';
import { hasJspi } from '../runtime/exec/inline/jspi.js';
import { TemplateStore } from '../runtime/exec/inline/templates.js';
import type { KvCall, KvReply } from '../runtime/exec/protocol.js';
import { createSyncChannel, serveSyncChannel } from '../runtime/exec/worker/sync-channel.js';
import { WorkerPool } from '../runtime/exec/worker/worker-pool.js';
import { ArtifactStore } from '../runtime/functions/artifact-store.js';
import { Transpiler } from '../runtime/functions/transpiler.js';
import { WIT_DIR } from '../runtime/node.js';
import { machine, summarize } from './stats.js';

const BUILD = fileURLToPath(new URL('../../functions/build', import.meta.url));
const { values } = parseArgs({ options: { calls: { type: 'string', default: '5000' } } });
const calls = Number(values.calls);
const us = (ms: number[]) => summarize(ms.map((x) => x * 1000));

/** What fetch() (undici) sends with a small POST, and a few more: each is lifted into the guest. */
const FETCH_CLIENT_HEADERS: [string, string][] = [
  ['host', '127.0.0.1:8080'],
  ['connection', 'keep-alive'],
  ['content-type', 'text/plain;charset=UTF-8'],
  ['accept', '*/*'],
  ['accept-language', '*'],
  ['sec-fetch-mode', 'cors'],
  ['user-agent', 'node'],
  ['accept-encoding', 'gzip, deflate'],
];

/** Round trips of the worker → main synchronous channel, timed inside the worker. */
async function syncRoundTrip(): Promise<number[]> {
  const channel = createSyncChannel();
  serveSyncChannel<{ n: number }, KvReply>(
    channel,
    async ({ n }) => ({ ok: true, value: n }),
    () => ({ ok: false, error: { tag: 'unavailable' } }),
  );
  const channelUrl = new URL('../runtime/exec/worker/sync-channel.js', import.meta.url).href;
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     import(${JSON.stringify(channelUrl)}).then(({ SyncCaller }) => {
       const caller = new SyncCaller(workerData.end);
       const call = (request) => caller.call(request);
       const samples = [];
       for (let i = 0; i < workerData.calls; i++) { const t = performance.now(); call({ n: i }); samples.push(performance.now() - t); }
       parentPort.postMessage(samples);
     });`,
    { eval: true, workerData: { end: channel.workerEnd, calls }, transferList: [channel.workerEnd.port] },
  );
  const samples = await new Promise<number[]>((resolve) => worker.once('message', resolve));
  await worker.terminate();
  channel.hostPort.close();
  return samples.slice(Math.floor(calls / 10));
}

/** A Map as the function's keygroup; `asyncScan` answers scans with a promise, as the node does. */
function mapKv(asyncScan: boolean): Job['kv'] {
  const kv = new Map<string, string>();
  return ({ op, args }: KvCall): KvReply | Promise<KvReply> => {
    if (op === 'get') return { ok: true, value: kv.get(args[0] as string) };
    if (op === 'set') kv.set(args[0] as string, args[1] as string);
    if (op === 'increment') {
      const value = BigInt(kv.get(args[0] as string) ?? '0') + (args[1] as bigint);
      kv.set(args[0] as string, value.toString());
      return { ok: true, value };
    }
    if (op === 'scan') {
      const [start, count] = [args[0] as string, Number(args[1])];
      const ids = [...kv.keys()].filter((id) => id >= start).sort().slice(0, count);
      if (ids[0] !== start) return { ok: false, error: { tag: 'not-found', val: start } };
      const reply: KvReply = { ok: true, value: ids.map((id) => ({ id, value: kv.get(id)! })) };
      return asyncScan ? Promise.resolve(reply) : reply;
    }
    return { ok: true, value: undefined };
  };
}

interface Call {
  name: string;
  headers?: [string, string][];
  method?: string;
  body?: string;
  kv?: Job['kv'];
}

function jobFor(meta: Job['meta'], call: Call, loadSpec: Job['loadSpec']): Job {
  const memoryLimitBytes = 128 * 2 ** 20;
  return {
    instanceKey: `${meta.digest}:bench`,
    meta,
    loadSpec,
    request: { method: call.method ?? 'POST', path: '/', query: '', headers: call.headers ?? [], body: new TextEncoder().encode(call.body ?? 'hi') },
    env: [] as [string, string][],
    timeoutMs: 10_000,
    memoryLimitBytes,
    maxLogBytes: 64 * 1024,
    kv: call.kv ?? mapKv(true),
  };
}

async function timedRuns(run: (job: Job) => Promise<{ failure?: { message: string } }>, job: Job, label: string): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < calls + 200; i++) {
    const t = performance.now();
    const result = await run(job);
    if (result.failure) throw new Error(`${label}: ${result.failure.message}`);
    if (i >= 200) samples.push(performance.now() - t);
  }
  return samples;
}

async function deployed(artifacts: ArtifactStore, name: string): Promise<Job['meta']> {
  const bytes = await fs.readFile(path.join(BUILD, `${name}.wasm`));
  return artifacts.put(bytes, await new Transpiler(WIT_DIR).transpile(bytes));
}

async function inlineCalls(engine: InlineEngine, artifacts: ArtifactStore, call: Call): Promise<number[]> {
  const meta = await deployed(artifacts, call.name);
  const job = jobFor(meta, call, () => Promise.reject(new Error('the inline engine loads its own code')));
  return timedRuns((j) => engine.run(j), job, call.name);
}

async function poolCalls(pool: WorkerPool, code: CodeCache, artifacts: ArtifactStore, name: string): Promise<number[]> {
  const meta = await deployed(artifacts, name);
  const memoryLimitBytes = 128 * 2 ** 20;
  const job = jobFor(meta, { name }, () => code.load(meta, memoryLimitBytes));
  return timedRuns((j) => pool.run(j), job, name);
}

async function main(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-bench-exec-'));
  const artifacts = new ArtifactStore(dir);
  const code = new CodeCache(artifacts);
  const logger = pino({ level: 'silent' });
  const results: Record<string, ReturnType<typeof us>> = {};
  if (hasJspi) {
    const engine = new InlineEngine({
      code: new InlineCode((digest) => artifacts.dir(digest), new TemplateStore(path.join(dir, 'templates'), true, logger)),
      instancesPerCode: 8,
      maxQueue: 10,
      memoryBudgetBytes: 2 ** 30,
      sliceMs: 5,
      logger,
    });
    results['inline call: hello (WAT)'] = us(await inlineCalls(engine, artifacts, { name: 'hello', method: 'GET', body: '' }));
    results['inline call: echo (JS)'] = us(await inlineCalls(engine, artifacts, { name: 'echo' }));
    results['inline call: echo (JS), with 8 request headers (as a fetch client sends)'] = us(await inlineCalls(engine, artifacts, { name: 'echo', headers: FETCH_CLIENT_HEADERS }));
    results['inline call: movingaverage (JS, 4 KV ops; scan answered by a promise: JSPI)'] = us(await inlineCalls(engine, artifacts, { name: 'movingaverage', body: '0-42' }));
    results['inline call: movingaverage, every KV op answered at once (no suspension)'] = us(await inlineCalls(engine, artifacts, { name: 'movingaverage', body: '0-42', kv: mapKv(false) }));
    await engine.stop();
  } else {
    process.stderr.write(`Node ${process.version} has no JSPI: the inline engine is not measured\n`);
  }
  const pool = new WorkerPool({ size: 1, maxQueue: 10, memoryBudgetBytes: 2 ** 30, logger });
  await pool.start();
  Object.assign(results, {
    'sync KV round trip (worker → main → worker)': us(await syncRoundTrip()),
    'pool call: hello (WAT)': us(await poolCalls(pool, code, artifacts, 'hello')),
    'pool call: echo (JS)': us(await poolCalls(pool, code, artifacts, 'echo')),
    'pool call: counter (JS, an increment on a Map)': us(await poolCalls(pool, code, artifacts, 'counter')),
  });
  await pool.stop();
  await fs.rm(dir, { recursive: true, force: true });
  // The mean next to the percentiles: what throughput pays, rare pauses (a guest's collections) included.
  process.stdout.write('| path | p50 µs | mean µs | p99 µs |\n|---|---|---|---|\n');
  for (const [label, s] of Object.entries(results)) process.stdout.write(`| ${label} | ${s.p50.toFixed(0)} | ${s.mean.toFixed(0)} | ${s.p99.toFixed(0)} |\n`);
  process.stdout.write(JSON.stringify({ machine: machine(), calls }) + '\n');
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
});
