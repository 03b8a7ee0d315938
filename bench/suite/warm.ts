// Scenario 2, warm invocation: sequential latency and throughput under load (autocannon, closed
// loop, several connection counts) of a tiny function (hello, WAT) and a trivial JS function
// (echo), next to two baselines in the same run: the node's own bare Hono route (/healthz, same
// server and process) and the same logic as plain JS handlers on a Hono server of its own (same
// kind of process, no WebAssembly). Each load run also reads the serving process's CPU time (all
// its threads) before and after: CPU per request says what a route costs the server, apart from
// how the client, on the same cores, shares them.

import autocannon from 'autocannon';
import path from 'node:path';
import fs from 'node:fs/promises';
import type { Summary } from '../stats.js';
import { EXAMPLES, HttpClient, MiB, cpuNs, deploy, rssBytes, sequential, startBenchNode, startScriptServer, tempDir, type Request, type Target } from './harness.js';
import { offloadComparison, offloadTable, type OffloadResult } from './offload.js';

export interface WarmSettings {
  sequential: number;
  durationS: number;
  connections: number[];
}

export interface LoadPoint {
  connections: number;
  reqPerS: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time of the serving process (all its threads) per completed request, µs. */
  cpuUsPerRequest?: number;
}

export interface WarmResult {
  sequential: Record<string, Summary>;
  load: Record<string, LoadPoint[]>;
  /** Node RSS after the load runs (MiB). */
  nodeRssMiB: number;
  /** A CPU-heavy JS call with and without offloading to workers (offload.ts). */
  offload?: OffloadResult;
  ratios: {
    /** Peak req/s of the target over the bare route's peak req/s (autocannon: completed requests ÷ duration). */
    throughputOverBare: Record<string, number>;
    /** Sequential p50 minus the bare route's, ms. */
    p50OverBare: Record<string, number>;
  };
}

export const BARE = 'bare Hono route (/healthz)';
export const TINY = 'hello (WAT, tiny)';
export const JS = 'echo (JS)';
const PLAIN_TINY = 'hello as plain JS (no wasm)';
const PLAIN_JS = 'echo as plain JS (no wasm)';
const POST_HI: Request = { method: 'POST', body: 'hi' };

export async function warmScenario(s: WarmSettings, kvWasm: string): Promise<WarmResult> {
  const dir = await tempDir('warm');
  const node = await startBenchNode(dir);
  const plain = await startScriptServer('./plain-server.js');
  const plainClient = new HttpClient(plain.url);
  try {
    await deploy(node, 'hello', path.join(EXAMPLES, 'hello.wasm'));
    await deploy(node, 'echo', path.join(EXAMPLES, 'echo.wasm'));
    const targets: Array<Target & { base: string; pid: number }> = [
      { label: BARE, client: node.client, route: '/healthz', base: node.url, pid: node.pid },
      { label: TINY, client: node.client, route: '/fn/hello', base: node.url, pid: node.pid },
      { label: JS, client: node.client, route: '/fn/echo', init: POST_HI, base: node.url, pid: node.pid },
      { label: PLAIN_TINY, client: plainClient, route: '/fn/hello', base: plain.url, pid: plain.pid },
      { label: PLAIN_JS, client: plainClient, route: '/fn/echo', init: POST_HI, base: plain.url, pid: plain.pid },
    ];
    process.stderr.write(`  sequential: ${s.sequential} requests per target, interleaved\n`);
    const seq = await sequential(targets, s.sequential);

    const load: Record<string, LoadPoint[]> = Object.fromEntries(targets.map((t) => [t.label, []]));
    for (const connections of s.connections) {
      for (const t of targets) {
        process.stderr.write(`  load: ${t.label}, ${connections} connection(s), ${s.durationS} s\n`);
        const cpuBefore = cpuNs(t.pid);
        const r = await autocannon({
          url: t.base + t.route,
          connections,
          duration: s.durationS,
          method: t.init?.method ?? 'GET',
          body: t.init?.body,
        });
        load[t.label].push({
          connections,
          reqPerS: Math.round(r.requests.total / r.duration),
          p50: r.latency.p50,
          p99: r.latency.p99,
          errors: r.errors + r.timeouts + r.non2xx,
          cpuUsPerRequest: cpuPerRequest(cpuBefore, cpuNs(t.pid), r.requests.total),
        });
      }
    }
    const nodeRssMiB = MiB(await rssBytes(node.pid));

    const peak = (label: string) => Math.max(...load[label].map((p) => p.reqPerS));
    const round = (x: number, d = 3) => Number(x.toFixed(d));
    const ratios: WarmResult['ratios'] = { throughputOverBare: {}, p50OverBare: {} };
    for (const t of targets) {
      ratios.throughputOverBare[t.label] = round(peak(t.label) / peak(BARE));
      ratios.p50OverBare[t.label] = round(seq[t.label].p50 - seq[BARE].p50);
    }
    const offload = await offloadComparison(kvWasm, s.durationS);
    return { sequential: seq, load, nodeRssMiB, ratios, offload };
  } finally {
    plainClient.close();
    await plain.stop();
    await node.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** µs of CPU per request between two cpuNs readings; undefined without procfs. */
function cpuPerRequest(before: number | undefined, after: number | undefined, requests: number): number | undefined {
  if (before === undefined || after === undefined || requests === 0) return undefined;
  return Number(((after - before) / 1000 / requests).toFixed(2));
}

export function warmTables(r: WarmResult): string[][][] {
  const seq = [['target', 'p50 ms', 'p95 ms', 'p99 ms', 'p50 − bare ms']];
  for (const [label, s] of Object.entries(r.sequential)) seq.push([label, String(s.p50), String(s.p95), String(s.p99), String(r.ratios.p50OverBare[label])]);
  const connections = Object.values(r.load)[0]?.map((p) => p.connections) ?? [];
  const load = [
    ['target', ...connections.map((c) => `req/s @${c}`), ...connections.map((c) => `p99 ms @${c}`), ...connections.map((c) => `server CPU µs/req @${c}`), 'peak / bare peak'],
  ];
  for (const [label, points] of Object.entries(r.load)) {
    const errors = points.reduce((n, p) => n + p.errors, 0);
    load.push([
      label + (errors > 0 ? ` (${errors} errors)` : ''),
      ...points.map((p) => String(p.reqPerS)),
      ...points.map((p) => String(p.p99)),
      ...points.map((p) => (p.cpuUsPerRequest === undefined ? '—' : String(p.cpuUsPerRequest))),
      String(r.ratios.throughputOverBare[label]),
    ]);
  }
  return r.offload ? [seq, load, offloadTable(r.offload)] : [seq, load];
}
