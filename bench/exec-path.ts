// Where warm invocation time goes, below HTTP: the synchronous KV round trip from a worker to
// the main thread, and a call through the worker pool (main → worker → guest → main) for the
// tiny and a JS guest with an in-memory KV. Prints p50/p99 in µs.
//
//   node dist/bench/exec-path.js [--calls 5000]

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { CodeCache } from '../runtime/exec/code-cache.js';
import type { KvCall, KvReply } from '../runtime/exec/protocol.js';
import { createSyncChannel, serveSyncChannel } from '../runtime/exec/sync-channel.js';
import { WorkerPool } from '../runtime/exec/worker-pool.js';
import { ArtifactStore } from '../runtime/functions/artifact-store.js';
import { Transpiler } from '../runtime/functions/transpiler.js';
import { WIT_DIR } from '../runtime/node.js';
import { machine, summarize } from './stats.js';

const BUILD = fileURLToPath(new URL('../../functions/build', import.meta.url));
const { values } = parseArgs({ options: { calls: { type: 'string', default: '5000' } } });
const calls = Number(values.calls);
const us = (ms: number[]) => summarize(ms.map((x) => x * 1000));

/** Round trips of the worker → main synchronous channel, timed inside the worker. */
async function syncRoundTrip(): Promise<number[]> {
  const channel = createSyncChannel();
  serveSyncChannel<{ n: number }, KvReply>(
    channel,
    async ({ n }) => ({ ok: true, value: n }),
    () => ({ ok: false, error: { tag: 'unavailable' } }),
  );
  const channelUrl = new URL('../runtime/exec/sync-channel.js', import.meta.url).href;
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

async function poolCalls(pool: WorkerPool, code: CodeCache, artifacts: ArtifactStore, name: string): Promise<number[]> {
  const bytes = await fs.readFile(path.join(BUILD, `${name}.wasm`));
  const meta = await artifacts.put(bytes, await new Transpiler(WIT_DIR).transpile(bytes));
  const kv = new Map<string, string>();
  const memoryLimitBytes = 128 * 2 ** 20;
  const job = {
    codeKey: `${meta.digest}:bench`,
    meta,
    loadSpec: () => code.load(meta, memoryLimitBytes),
    request: { method: 'POST', path: '/', query: '', headers: [] as [string, string][], body: new TextEncoder().encode('hi') },
    env: [] as [string, string][],
    timeoutMs: 10_000,
    memoryLimitBytes,
    kv: async ({ op, args }: KvCall): Promise<KvReply> => {
      if (op === 'get') return { ok: true, value: kv.get(args[0] as string) };
      if (op === 'set') kv.set(args[0] as string, args[1] as string);
      if (op === 'increment') {
        const value = BigInt(kv.get(args[0] as string) ?? '0') + (args[1] as bigint);
        kv.set(args[0] as string, value.toString());
        return { ok: true, value };
      }
      return { ok: true, value: undefined };
    },
  };
  const samples: number[] = [];
  for (let i = 0; i < calls + 200; i++) {
    const t = performance.now();
    const result = await pool.run(job);
    if (result.failure) throw new Error(`${name}: ${result.failure.message}`);
    if (i >= 200) samples.push(performance.now() - t);
  }
  return samples;
}

async function main(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-bench-exec-'));
  const artifacts = new ArtifactStore(dir);
  const code = new CodeCache(artifacts);
  const pool = new WorkerPool({ size: 1, maxQueue: 10, memoryBudgetBytes: 2 ** 30, logger: pino({ level: 'silent' }) });
  await pool.start();
  const results = {
    'sync KV round trip (worker → main → worker)': us(await syncRoundTrip()),
    'pool call: hello (WAT)': us(await poolCalls(pool, code, artifacts, 'hello')),
    'pool call: echo (JS)': us(await poolCalls(pool, code, artifacts, 'echo')),
    'pool call: counter (JS, an increment on a Map)': us(await poolCalls(pool, code, artifacts, 'counter')),
  };
  await pool.stop();
  await fs.rm(dir, { recursive: true, force: true });
  process.stdout.write('| path | p50 µs | p99 µs |\n|---|---|---|\n');
  for (const [label, s] of Object.entries(results)) process.stdout.write(`| ${label} | ${s.p50.toFixed(0)} | ${s.p99.toFixed(0)} |\n`);
  process.stdout.write(JSON.stringify({ machine: machine(), calls }) + '\n');
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
});
