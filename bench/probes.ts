// Probes behind the README's explanations of missed targets: each isolates one cost the suite's
// end-to-end numbers contain. Every probe runs in a fresh child process, so that what one loads
// does not count for the next.
//
//   node dist/bench/probes.js [hops] [kv] [rewritten] [memory] [heap] [warm-up] [compile] [idle] [crash]   (all by default)
//
//   hops     a main → worker → main round trip: postMessage to a waiting worker, against
//            SharedArrayBuffer + Atomics.waitAsync; and what a vm timeout adds to a call
//   kv       host side of one invocation's KV calls on the real LevelDB replica (get, scan of 10),
//            and a LevelDB scan of 10 items read by async iteration against nextv(10)
//   rewritten  a scan of a ring of 10 ids rewritten 20,000 times (movingaverage's pattern): a
//            LevelDB iterator (nextv) against the store's scan through its id index
//   memory   resident memory of an idle process step by step: empty, one worker thread, undici
//            (the Response global, which a node does not load), Hono with the node's HTTP
//            adapter, the whole node module graph
//   heap     in this process: what the first localeCompare adds (ICU's collation data), and what
//            the node's idle collection gives back once V8 has grown the young generation
//   warm-up  a node's start (spawn → listening) and the first call of hello after a restart,
//            with the node's warm-up on and off
//   compile  WebAssembly.compile of echo's 12 MB core module with and without lazy validation
//   idle     p50 latency over one keep-alive connection, back to back and with requests 100 ms
//            apart (an idle machine between them, as in the paper's simple experiment), and the
//            serving process's CPU time per request in both (spaced, it includes the little the
//            process does on its own meanwhile): a bare node:http server, the node's /healthz,
//            echo, a KV set, movingaverage
//   crash    the counter example incremented by 32 concurrent clients, the node SIGKILLed under
//            that load and restarted, on each engine: the next increment must be above the
//            highest acknowledged, by at most the increments in flight at the kill

import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, summarize } from './stats.js';
import { heap, idle, memory, warmUp, type Rows } from './probes-node.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function micros(samples: number[]): string {
  const s = summarize(samples.map((ms) => ms * 1000));
  return `p50 ${s.p50.toFixed(0)} µs, p99 ${s.p99.toFixed(0)} µs`;
}

async function timed(n: number, fn: () => Promise<unknown> | unknown): Promise<number[]> {
  for (let i = 0; i < Math.min(500, n); i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return samples;
}

async function hops(): Promise<Rows> {
  const { Worker } = await import('node:worker_threads');
  const vm = await import('node:vm');
  const n = 3000;
  // postMessage: the worker waits in its event loop, as a pool worker does between calls.
  const echo = new Worker(`require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m));`, { eval: true });
  const viaMessage = await timed(n, () => new Promise((resolve) => {
    echo.once('message', resolve);
    echo.postMessage(0);
  }));
  await echo.terminate();
  // SharedArrayBuffer: the worker blocks in Atomics.wait, the main thread waits with waitAsync.
  const shared = new Int32Array(new SharedArrayBuffer(8));
  const doorbell = new Worker(
    `const { workerData } = require('node:worker_threads'); const s = workerData;
     for (;;) { Atomics.wait(s, 0, 0); Atomics.store(s, 0, 0); Atomics.store(s, 1, 1); Atomics.notify(s, 1); }`,
    { eval: true, workerData: shared },
  );
  const viaAtomics = await timed(n, async () => {
    Atomics.store(shared, 1, 0);
    Atomics.store(shared, 0, 1);
    Atomics.notify(shared, 0);
    // (Atomics.waitAsync is in Node ≥ 16; TypeScript's lib here predates it.)
    const wait = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: unknown } }).waitAsync(shared, 1, 0);
    if (wait.async) await wait.value;
  });
  await doorbell.terminate();
  // A vm context with a timeout is the only way to stop a loop on the main thread.
  const context = vm.createContext({});
  const script = new vm.Script('1 + 1');
  const plain = await timed(n, () => script.runInContext(context));
  const withTimeout = await timed(n, () => script.runInContext(context, { timeout: 1000 }));
  return [
    ['round trip main → worker → main, postMessage', micros(viaMessage)],
    ['round trip main → worker → main, SharedArrayBuffer + Atomics.waitAsync', micros(viaAtomics)],
    ['vm script call', micros(plain)],
    ['vm script call with a timeout', micros(withTimeout)],
  ];
}

async function kv(): Promise<Rows> {
  const { LevelReplicaStore } = await import('../replication/store/level-store.js');
  const { StoreKvBackend } = await import('../runtime/kv/kv-backend.js');
  const { InvocationKv } = await import('../runtime/kv/invocation-kv.js');
  const { ClassicLevel } = await import('classic-level');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-probe-kv-'));
  try {
    const store = new LevelReplicaStore({ nodeId: 'probe', location: path.join(dir, 'replica') });
    await store.open();
    await store.createKeygroup({ name: 'kv', mutable: true, expiry: 0 });
    await store.applyLocal(Array.from({ length: 10 }, (_, k) => ({ kind: 'set' as const, keygroup: 'kv', id: `k${k}`, value: `value${k}` })));
    const backend = new StoreKvBackend(store);
    const info = (await store.getKeygroup('kv'))!;
    const limits = { maxValueBytes: 4 << 20, maxWriteBytes: 64 << 20, maxScanCount: 10_000 };
    const call = (op: string, args: unknown[]) => () => new InvocationKv(backend, info, limits).handle({ op, args } as never);
    const get = await timed(3000, call('get', ['k0']));
    const scan = await timed(3000, call('scan', ['k0', 10]));
    await store.close();

    // 200 items; a scan wants 10 of them.
    const db = new ClassicLevel<string, string>(path.join(dir, 'plain'), { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    await db.batch(Array.from({ length: 200 }, (_, i) => ({ type: 'put' as const, key: `k${String(i).padStart(3, '0')}`, value: 'x'.repeat(40) })));
    const iterate = await timed(2000, async () => {
      let n = 0;
      for await (const entry of db.iterator({ gte: 'k000' })) if (entry && ++n >= 10) break;
    });
    const nextv = await timed(2000, async () => {
      const it = db.iterator({ gte: 'k000' });
      await it.nextv(10);
      await it.close();
    });
    await db.close();
    return [
      ['InvocationKv get (one item)', micros(get)],
      ['InvocationKv scan of 10', micros(scan)],
      ['LevelDB: 10 of 200 items, async iteration', micros(iterate)],
      ['LevelDB: 10 of 200 items, nextv(10)', micros(nextv)],
    ];
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function rewritten(): Promise<Rows> {
  const { LevelReplicaStore } = await import('../replication/store/level-store.js');
  const { ClassicLevel } = await import('classic-level');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-probe-ring-'));
  const REWRITES = 20_000;
  const slot = (i: number) => `b${i % 10}`;
  try {
    const db = new ClassicLevel<string, string>(path.join(dir, 'plain'), { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    for (let i = 0; i < REWRITES; i++) await db.batch([{ type: 'put', key: slot(i), value: String(i) }, { type: 'put', key: 'a', value: slot(i + 1) }]);
    const iterator = await timed(2000, async () => {
      const it = db.iterator({ gte: 'b0' });
      await it.nextv(10);
      await it.close();
    });
    await db.close();

    const store = new LevelReplicaStore({ nodeId: 'probe', location: path.join(dir, 'replica') });
    await store.open();
    await store.createKeygroup({ name: 'kv', mutable: true, expiry: 0 });
    const set = (id: string, value: string) => ({ kind: 'set' as const, keygroup: 'kv', id, value });
    for (let i = 0; i < REWRITES; i++) await store.applyLocal([set(slot(i), String(i)), set('a', slot(i + 1))]);
    const indexed = await timed(2000, () => store.scan('kv', { start: 'b0', count: 10 }));
    await store.close();
    return [
      [`LevelDB iterator, nextv(10) over ids rewritten ${REWRITES} times`, micros(iterator)],
      ['the store\'s scan of the same 10 (id index + getSync)', micros(indexed)],
    ];
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function compile(): Promise<Rows> {
  const file = path.join(ROOT, 'functions', 'build', 'echo.wasm');
  const run = (flags: string[]) =>
    JSON.parse(execFileSync(process.execPath, [...flags, SELF, 'compile-child', file], { encoding: 'utf8' })) as number[];
  return [
    ["echo's core module, default flags", `p50 ${summarize(run([])).p50.toFixed(0)} ms`],
    ["echo's core module, --wasm-lazy-validation", `p50 ${summarize(run(['--wasm-lazy-validation'])).p50.toFixed(0)} ms`],
  ];
}

/** In a child: transpile once, then compile the largest core module 5 times (each a new module). */
async function compileChild(file: string): Promise<void> {
  const { Transpiler } = await import('../runtime/functions/transpiler.js');
  const { WIT_DIR } = await import('../runtime/node.js');
  const out = await new Transpiler(WIT_DIR).transpile(await fs.readFile(file));
  const core = [...out.files.entries()].filter(([name]) => name.endsWith('.wasm')).sort((a, b) => b[1].length - a[1].length)[0][1];
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    // A distinct copy each time, so V8's module cache cannot answer from an earlier compile.
    // (A custom section "prb<i>" appended: id 0, size 5, name length 4, the name.)
    const bytes = new Uint8Array(core.length + 7);
    bytes.set(core);
    bytes.set([0, 5, 4, 112, 114, 98, 48 + i], core.length);
    const t = performance.now();
    await WebAssembly.compile(bytes);
    samples.push(performance.now() - t);
  }
  process.stdout.write(JSON.stringify(samples));
}

/**
 * Acknowledged writes across a crash under load, on each engine: no acknowledged increment lost,
 * none answered twice; increments in flight at the kill (at most one per client) may or may not
 * have been applied.
 */
async function crash(): Promise<Rows> {
  const rows: Rows = [];
  // The inline engine needs JSPI (Node 24 and later).
  const engines = 'Suspending' in WebAssembly ? ['inline', 'worker'] : ['worker'];
  for (const engine of engines) rows.push(...(await crashOn(engine)));
  return rows;
}

async function crashOn(engine: string): Promise<Rows> {
  const { EXAMPLES, deploy, startBenchNode, tempDir } = await import('./suite/harness.js');
  const http = await import('node:http');
  const CLIENTS = 32;
  const LOAD_MS = 3000;
  const env = { ENOKI_ENGINE: engine };
  const dir = await tempDir('probe-crash');
  let node = await startBenchNode(dir, env);
  try {
    await deploy(node, 'counter', path.join(EXAMPLES, 'counter.wasm'));
    const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
    const url = `${node.url}/fn/counter`;
    const increment = () =>
      new Promise<number>((resolve, reject) => {
        http
          .get(url, { agent }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve(res.statusCode === 200 ? Number(body) : NaN));
          })
          .on('error', reject);
      });
    const seen = new Set<number>();
    let duplicates = 0;
    let highest = 0;
    const client = async () => {
      for (;;) {
        let value: number;
        try {
          value = await increment();
        } catch {
          return; // the node is gone
        }
        if (!Number.isFinite(value)) continue;
        if (seen.has(value)) duplicates++;
        seen.add(value);
        highest = Math.max(highest, value);
      }
    };
    const clients = Array.from({ length: CLIENTS }, client);
    await new Promise((resolve) => setTimeout(resolve, LOAD_MS));
    process.kill(node.pid, 'SIGKILL');
    await Promise.all(clients);
    agent.destroy();
    await node.stop();
    node = await startBenchNode(dir, env);
    const next = Number((await node.client.send('/fn/counter')).body);
    const extra = next - highest - 1;
    const verdict =
      extra < 0 ? `LOST ${-extra} acknowledged` : extra <= CLIENTS ? `nothing lost; ${extra} in-flight increment(s) applied` : `${extra} more than the ${CLIENTS} in flight`;
    return [
      [`${engine} engine: increments acknowledged in ${LOAD_MS / 1000} s by ${CLIENTS} clients, then SIGKILL`, `${seen.size} (highest ${highest}; ${duplicates} answered twice)`],
      [`${engine} engine: the first increment after the restart`, `${next} (${verdict})`],
    ];
  } finally {
    await node.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

const PROBES: Record<string, () => Promise<Rows>> = { hops, kv, rewritten, memory, heap, 'warm-up': warmUp, compile, idle, crash };

async function main(): Promise<void> {
  const [first, arg] = process.argv.slice(2);
  if (first === 'compile-child') return compileChild(arg);
  if (first?.startsWith('child:')) {
    process.stdout.write(JSON.stringify(await PROBES[first.slice(6)]()));
    process.exit(0);
  }
  const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(PROBES);
  for (const name of names) if (!PROBES[name]) throw new Error(`unknown probe ${name}: one of ${Object.keys(PROBES).join(', ')}`);
  process.stdout.write(`| probe | measurement |\n|---|---|\n`);
  for (const name of names) {
    const rows = JSON.parse(execFileSync(process.execPath, [SELF, `child:${name}`], { encoding: 'utf8', maxBuffer: 1 << 20 })) as Rows;
    for (const [label, value] of rows) process.stdout.write(`| ${name}: ${label} | ${value} |\n`);
  }
  process.stdout.write(JSON.stringify({ machine: machine() }) + '\n');
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
});
