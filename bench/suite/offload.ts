// Part of scenario 2: a CPU-heavy JS call (the KV guest looping over no-ops, bench/guests/kv.js,
// a few ms a call) on two nodes side by side, one with ENOKI_OFFLOAD_MS=1 (calls that would wait
// for the event loop go to workers) and one as it starts by default (every call on the loop): one
// client calling sequentially, then several at once (autocannon, closed loop).

import autocannon from 'autocannon';
import fs from 'node:fs/promises';
import type { Summary } from '../stats.js';
import { MiB, deploy, metric, rssBytes, sequential, startBenchNode, tempDir } from './harness.js';

/** No-ops per call: a few ms of a JS guest's time on this kind of machine. */
export const HEAVY_NOOPS = 20_000;
const ROUTE = `/fn/busy/none?n=${HEAVY_NOOPS}`;

export interface OffloadSide {
  sequential: Summary;
  reqPerS: number;
  p50: number;
  p99: number;
  errors: number;
  offloadedCalls: number;
  workers: number;
  rssMiB: number;
}

export interface OffloadResult {
  connections: number;
  durationS: number;
  /** A node with ENOKI_OFFLOAD_MS=1. */
  offloading: OffloadSide;
  /** A node as it starts by default (ENOKI_OFFLOAD_MS=0). */
  loopOnly: OffloadSide;
  /** Throughput of the first over the second. */
  throughputRatio: number;
}

async function side(kvWasm: string, env: Record<string, string>, connections: number, durationS: number, sequentialN: number): Promise<OffloadSide> {
  const dir = await tempDir('offload');
  const node = await startBenchNode(dir, env);
  try {
    await deploy(node, 'busy', kvWasm);
    const seq = await sequential([{ label: 'busy', client: node.client, route: ROUTE }], sequentialN, 1, 5);
    // Not measured: the first calls that find the loop taken have a worker load the function.
    await autocannon({ url: node.url + ROUTE, connections, duration: 2 });
    const r = await autocannon({ url: node.url + ROUTE, connections, duration: durationS });
    return {
      sequential: seq.busy,
      reqPerS: Math.round(r.requests.total / r.duration),
      p50: r.latency.p50,
      p99: r.latency.p99,
      errors: r.errors + r.timeouts + r.non2xx,
      offloadedCalls: (await metric(node, 'enoki_offloaded_calls_total')) ?? 0,
      workers: (await metric(node, 'enoki_workers')) ?? 0,
      rssMiB: MiB(await rssBytes(node.pid)),
    };
  } finally {
    await node.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export async function offloadComparison(kvWasm: string, durationS: number, connections = 4, sequentialN = 50): Promise<OffloadResult> {
  process.stderr.write(`  a CPU-heavy JS call (${HEAVY_NOOPS} no-ops): ENOKI_OFFLOAD_MS=1, then the default (0); ${connections} connections, ${durationS} s each\n`);
  const offloading = await side(kvWasm, { ENOKI_OFFLOAD_MS: '1' }, connections, durationS, sequentialN);
  const loopOnly = await side(kvWasm, { ENOKI_OFFLOAD_MS: '0' }, connections, durationS, sequentialN);
  return { connections, durationS, offloading, loopOnly, throughputRatio: Number((offloading.reqPerS / loopOnly.reqPerS).toFixed(2)) };
}

export function offloadTable(r: OffloadResult): string[][] {
  const rows = [['a CPU-heavy JS call', 'one client p50 ms', `req/s @${r.connections}`, `p50 ms @${r.connections}`, `p99 ms @${r.connections}`, 'calls on workers (the warm-up run too)', 'workers', 'RSS MiB']];
  for (const [label, s] of [
    ['offloading (ENOKI_OFFLOAD_MS=1)', r.offloading],
    ['every call on the event loop (the default, ENOKI_OFFLOAD_MS=0)', r.loopOnly],
  ] as const) {
    rows.push([label + (s.errors > 0 ? ` (${s.errors} errors)` : ''), String(s.sequential.p50), String(s.reqPerS), String(s.p50), String(s.p99), String(s.offloadedCalls), String(s.workers), String(s.rssMiB)]);
  }
  rows.push([`throughput ratio ${r.throughputRatio}×`, '', '', '', '', '', '', '']);
  return rows;
}
