// Reply-correctness soak: several functions, each with its own keygroup, under sustained load
// with many KV calls per request, more workers than cores and a function that keeps timing out
// (so workers are terminated and replaced mid-load). Every reply is checked:
//   - each (function, client) sequence must advance by exactly 1 per successful call;
//   - every value a guest reads must be one its own function and client wrote (bench/guests/soak.js
//     checks inside the guest and reports what it saw);
//   - a reply must come from the function and client it was sent to.
// Anything else is an anomaly; the soak passes with 0 anomalies and 0 channel faults.
//
//   node dist/bench/soak.js [--seconds 120] [--functions 4] [--connections 8] [--ops 10] [--workers 4]
//                           [--engine auto|inline|worker]
// The inline engine (Node 24+) runs guests on the event loop; --engine worker soaks the worker
// pool and its host-call channels.

import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildGuest } from '../runtime/build/index.js';
import { BENCH_BUILD, HttpClient, metric, ROOT, startBenchNode, tempDir, TOKEN } from './suite/harness.js';
import { machine } from './stats.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '120' },
    functions: { type: 'string', default: '4' },
    connections: { type: 'string', default: '8' },
    ops: { type: 'string', default: '10' },
    workers: { type: 'string', default: '4' },
    engine: { type: 'string', default: 'auto' },
  },
});
const seconds = Number(values.seconds);
const functions = Array.from({ length: Number(values.functions) }, (_, i) => `soak${i + 1}`);
const connections = Number(values.connections);
const ops = Number(values.ops);

interface Step {
  fn: string;
  client: number;
  n: number;
  anomalies: string[];
}

async function main(): Promise<void> {
  const wasm = path.join(BENCH_BUILD, 'soak.wasm');
  await buildGuest({ source: path.join(ROOT, 'bench', 'guests', 'soak.js'), out: wasm, witDir: path.join(ROOT, 'wit') });
  const dataDir = await tempDir('soak');
  const node = await startBenchNode(dataDir, { ENOKI_WORKERS: values.workers!, ENOKI_MIN_WORKERS: values.workers!, ENOKI_ENGINE: values.engine! });
  const anomalies: string[] = [];
  const failures: Record<string, number> = {};
  let ok = 0;
  let loopCalls = 0;
  try {
    const bytes = await fs.readFile(wasm);
    for (const fn of functions) {
      const res = await fetch(`${node.url}/functions/${fn}?env=FN=${fn}`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}` }, body: bytes });
      if (!res.ok) throw new Error(`deploy ${fn}: HTTP ${res.status} ${await res.text()}`);
    }
    const loop = await fetch(`${node.url}/functions/soakloop?timeoutMs=300&env=FN=soakloop`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}` }, body: bytes });
    if (!loop.ok) throw new Error(`deploy soakloop: HTTP ${loop.status}`);

    const deadline = performance.now() + seconds * 1000;
    // Each connection is one client of every function: its calls to a function are sequential,
    // so that function's counter for it must advance by exactly one per successful call.
    const worker = async (client: number) => {
      const http = new HttpClient(node.url);
      const last = new Map<string, number>();
      let i = 0;
      while (performance.now() < deadline) {
        i++;
        if (client === 0 && i % 7 === 0) {
          loopCalls++;
          const res = await http.send('/fn/soakloop/loop');
          if (res.status !== 504) anomalies.push(`soakloop answered ${res.status}: ${res.body.slice(0, 200)}`);
          continue;
        }
        const fn = functions[(client + i) % functions.length];
        const res = await http.send(`/fn/${fn}?client=${client}&ops=${ops}`);
        if (res.status !== 200) {
          const code = /"code":"(\w+)"/.exec(res.body)?.[1] ?? `HTTP ${res.status}`;
          failures[code] = (failures[code] ?? 0) + 1;
          continue;
        }
        let step: Step;
        try {
          step = JSON.parse(res.body) as Step;
        } catch {
          anomalies.push(`${fn} client ${client}: not JSON: ${res.body.slice(0, 200)}`);
          continue;
        }
        if (step.fn !== fn || step.client !== client) anomalies.push(`sent to ${fn}/${client}, answered by ${step.fn}/${step.client}`);
        for (const a of step.anomalies) anomalies.push(`${fn} client ${client}: ${a}`);
        const expected = (last.get(fn) ?? 0) + 1;
        if (step.n !== expected) anomalies.push(`${fn} client ${client}: counter went to ${step.n}, expected ${expected}`);
        last.set(fn, step.n);
        ok++;
      }
      http.close();
    };
    const progress = setInterval(() => process.stderr.write(`  ${ok} ok, ${Object.values(failures).reduce((a, b) => a + b, 0)} failed, ${anomalies.length} anomalies\n`), 10_000);
    await Promise.all(Array.from({ length: connections }, (_, c) => worker(c)));
    clearInterval(progress);
    const channelFaults = (await metric(node, 'enoki_channel_faults_total')) ?? 0;
    // With --engine auto: calls of inline functions that went to workers (engine-router.ts).
    const offloadedCalls = (await metric(node, 'enoki_offloaded_calls_total')) ?? 0;
    const result = {
      bench: 'soak',
      machine: machine(),
      settings: { seconds, functions: functions.length, connections, opsPerCall: ops, kvCallsPerCall: 2 + 4 * ops, workers: Number(values.workers), engine: values.engine },
      ok,
      loopCalls,
      failures,
      channelFaults,
      offloadedCalls,
      anomalies: anomalies.length,
      firstAnomalies: anomalies.slice(0, 20),
      verdict: anomalies.length === 0 && channelFaults === 0 ? 'pass' : 'FAIL',
    };
    await fs.mkdir(path.join(ROOT, 'bench', 'results'), { recursive: true });
    await fs.writeFile(path.join(ROOT, 'bench', 'results', `soak-${Date.now()}.json`), JSON.stringify(result, null, 2));
    console.log(JSON.stringify(result, null, 2));
    if (result.verdict !== 'pass') process.exitCode = 1;
  } finally {
    await node.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
