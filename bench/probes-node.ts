// Probes of a whole node and its process (see probes.ts, which runs them): resident memory step by
// step, the heap the idle collection gives back, the warm-up's cost and gain, and latency on an
// idle machine.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { summarize } from './stats.js';

export type Rows = Array<[string, string]>;

export async function idle(): Promise<Rows> {
  const { EXAMPLES, BENCH_BUILD, HttpClient, deploy, startBenchNode, tempDir, threadCpuNs } = await import('./suite/harness.js');
  type HttpClient = InstanceType<typeof HttpClient>;
  const dir = await tempDir('probe-idle');
  const node = await startBenchNode(dir);
  try {
    await deploy(node, 'echo', path.join(EXAMPLES, 'echo.wasm'));
    await deploy(node, 'movingaverage', path.join(EXAMPLES, 'movingaverage.wasm'));
    await deploy(node, 'kv', path.join(BENCH_BUILD, 'kv.wasm'));
    await node.client.timed('/fn/kv/seed');
    const targets: Array<[string, string, { method?: string; body?: string }]> = [
      ['/healthz', '/healthz', {}],
      ['echo', '/fn/echo', { method: 'POST', body: 'hi' }],
      ['a KV set (kv guest)', '/fn/kv/set', {}],
      ['movingaverage', '/fn/movingaverage', { method: 'POST', body: '0-42' }],
    ];
    const rows: Rows = [];
    // The floor: a bare node:http server in a process of its own, answering "ok".
    const bare = spawn(process.execPath, ['-e', `require('node:http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', function () { console.log(this.address().port); })`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve) => bare.stdout.once('data', (d: Buffer) => resolve(Number(String(d)))));
    const bareClient = new HttpClient(`http://127.0.0.1:${port}`);
    type Init = { method?: string; body?: string };
    const all: Array<[string, HttpClient, number, string, Init]> = [
      ['a bare node:http server', bareClient, bare.pid!, '/', {}],
      ...targets.map(([label, route, init]) => [label, node.client, node.pid, route, init] as [string, HttpClient, number, string, Init]),
    ];
    // The serving process's CPU time (all its threads) from just before a request to its answer:
    // whether the same request costs more once the machine idled before it. Per request, so that
    // what the node does on its own between requests (its idle collection, a thread ending) is
    // not counted; the p50 of those.
    const timedWithCpu = async (pid: number, request: () => Promise<number>, latencies: number[], cpuUs: number[]) => {
      const before = threadCpuNs(pid);
      latencies.push(await request());
      const after = threadCpuNs(pid);
      if (!before || !after) return; // no procfs: latency only
      let ns = 0;
      for (const [tid, t] of after) ns += t - (before.get(tid) ?? 0);
      cpuUs.push(ns / 1000);
    };
    try {
      for (const [label, client, pid, route, init] of all) {
        for (let i = 0; i < 100; i++) await client.timed(route, init);
        const [busy, busyCpu, spaced, spacedCpu]: number[][] = [[], [], [], []];
        for (let i = 0; i < 300; i++) await timedWithCpu(pid, () => client.timed(route, init), busy, busyCpu);
        for (let i = 0; i < 40; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          await timedWithCpu(pid, () => client.timed(route, init), spaced, spacedCpu);
        }
        const p50 = (xs: number[], digits = 3) => summarize(xs).p50.toFixed(digits);
        rows.push([
          `${label}: p50 back to back / 100 ms apart`,
          `${p50(busy)} / ${p50(spaced)} ms; server CPU p50 ${p50(busyCpu, 0)} / ${p50(spacedCpu, 0)} µs a request`,
        ]);
      }
    } finally {
      bareClient.close();
      bare.kill();
    }
    return rows;
  } finally {
    await node.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function rssMiB(): number {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
}

export async function memory(): Promise<Rows> {
  const rows: Rows = [];
  const settle = () => new Promise((r) => setTimeout(r, 500));
  let last = rssMiB();
  const step = async (label: string, load: () => Promise<unknown> | unknown) => {
    await load();
    await settle();
    const now = rssMiB();
    rows.push([label, `+${(now - last).toFixed(1)} MiB (${now.toFixed(1)} MiB)`]);
    last = now;
  };
  rows.push(['a node process with nothing loaded but this probe', `${last.toFixed(1)} MiB`]);
  const { Worker } = await import('node:worker_threads');
  await step('one idle worker thread', async () => {
    // Kept running: the probe's process exits when the rows are written.
    const worker = new Worker('setInterval(() => {}, 1 << 30)', { eval: true });
    await new Promise((r) => worker.once('online', r));
  });
  await step("undici, Node's fetch (first use of the Response global; a node does not load it)", () => new Response('x'));
  await step("hono and the node's HTTP adapter", async () => Promise.all([import('../runtime/http/server/serve.js'), import('hono')]));
  await step("classic-level (LevelDB's native addon)", () => import('classic-level'));
  await step('the rest of the node module graph (runtime/node.js)', () => import('../runtime/node.js'));
  return rows;
}

/** What the node's idle collection and its sorting without ICU save, in this process. */
export async function heap(): Promise<Rows> {
  const v8 = await import('node:v8');
  const { collectAllGarbage } = await import('../runtime/exec/idle-collector.js');
  const settle = () => new Promise((r) => setTimeout(r, 500));
  const young = () => (v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) / 2 ** 20;
  const rows: Rows = [];
  await settle();
  let before = rssMiB();
  ['b', 'a', 'c'].sort((x, y) => x.localeCompare(y));
  await settle();
  rows.push(["first localeCompare (ICU's collation data)", `+${(rssMiB() - before).toFixed(1)} MiB`]);
  // Objects that live through a few scavenges, as a node's requests leave: V8 grows the young generation.
  const ring = new Array<number[]>(20_000);
  for (let i = 0; i < 400_000; i++) ring[i % ring.length] = new Array<number>(16).fill(i);
  await settle();
  before = rssMiB();
  const grown = young();
  const t = performance.now();
  await collectAllGarbage();
  const ms = performance.now() - t;
  await settle();
  rows.push([
    'the idle collection after V8 grew the young generation',
    `young generation ${grown.toFixed(0)} → ${young().toFixed(0)} MiB, RSS ${before.toFixed(1)} → ${rssMiB().toFixed(1)} MiB, ${ms.toFixed(1)} ms (${ring.length} arrays kept)`,
  ]);
  return rows;
}

/** What the warm-up costs a start and saves the first call (`hello`, prewarming off). */
export async function warmUp(): Promise<Rows> {
  const { EXAMPLES, deploy, startBenchNode, tempDir } = await import('./suite/harness.js');
  const dir = await tempDir('probe-warm-up');
  try {
    const first = await startBenchNode(dir);
    await deploy(first, 'hello', path.join(EXAMPLES, 'hello.wasm'));
    await first.client.timed('/fn/hello');
    await first.stop();
    const rows: Rows = [];
    for (const warm of ['1', '0']) {
      const ready: number[] = [];
      const call: number[] = [];
      for (let i = 0; i < 7; i++) {
        const node = await startBenchNode(dir, { ENOKI_WARM_UP: warm });
        try {
          ready.push(node.startMs);
          await node.client.timed('/healthz');
          call.push(await node.client.timed('/fn/hello'));
        } finally {
          await node.stop();
        }
      }
      const p50 = (xs: number[]) => summarize(xs).p50.toFixed(2);
      rows.push([`ENOKI_WARM_UP=${warm}: spawn → listening / first call of hello after a restart, p50 of 7`, `${p50(ready)} / ${p50(call)} ms`]);
    }
    return rows;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
