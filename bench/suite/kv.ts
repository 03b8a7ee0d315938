// Scenario 3, KV: end-to-end latency of a JS guest doing one get, set or scan (bench/guests/kv.js)
// and the in-function cost of one operation, taken from calls doing K of them: (p50 of K ops −
// p50 of K no-ops) / K. Then the paper's movingaverage (4 KV operations) next to the trivial JS
// function (echo), all on one node in the same run; and, after those, in a pass of its own (so
// that its large instance does not sit between their requests), movingaverage in Python, the
// language of the paper's original.

import fs from 'node:fs/promises';
import path from 'node:path';
import type { Summary } from '../stats.js';
import { EXAMPLES, deploy, sequential, startBenchNode, tempDir, type Target } from './harness.js';

export interface KvSettings {
  sequential: number;
  /** Operations per call for the in-function cost. */
  repeat: number;
}

export interface KvResult {
  endToEnd: Record<string, Summary>;
  /** In-function cost of one operation, µs (p50-based). */
  perOpUs: Record<string, number>;
  ratios: {
    /** movingaverage p50 over echo p50. */
    movingaverageOverTrivialJs: number;
    /** movingaverage p50 over the kv guest's no-op p50. */
    movingaverageOverNoop: number;
    /** movingaverage in Python p50 over the JS one's. */
    pythonOverJs: number;
  };
}

export const OPS = ['get', 'set', 'scan'] as const;
export const TRIVIAL_JS = 'echo (trivial JS)';
export const MOVING_AVERAGE = 'movingaverage (4 KV ops)';
export const MOVING_AVERAGE_PY = 'movingaverage in Python (4 KV ops)';

export async function kvScenario(s: KvSettings, kvWasm: string): Promise<KvResult> {
  const dir = await tempDir('kv');
  const node = await startBenchNode(dir);
  try {
    await deploy(node, 'echo', path.join(EXAMPLES, 'echo.wasm'));
    await deploy(node, 'movingaverage', path.join(EXAMPLES, 'movingaverage.wasm'));
    await deploy(node, 'movingaverage-py', path.join(EXAMPLES, 'movingaverage-py.wasm'));
    await deploy(node, 'kv', kvWasm);
    await node.client.timed('/fn/kv/seed');
    const c = node.client;
    const K = s.repeat;
    const targets: Target[] = [
      { label: TRIVIAL_JS, client: c, route: '/fn/echo', init: { method: 'POST', body: 'hi' } },
      { label: MOVING_AVERAGE, client: c, route: '/fn/movingaverage', init: { method: 'POST', body: '0-42' } },
      { label: 'kv guest, no-op', client: c, route: '/fn/kv/none' },
      ...OPS.map((op) => ({ label: `kv guest, 1 ${op}`, client: c, route: `/fn/kv/${op}` })),
      { label: `kv guest, ${K} no-ops`, client: c, route: `/fn/kv/none?n=${K}` },
      ...OPS.map((op) => ({ label: `kv guest, ${K} × ${op}`, client: c, route: `/fn/kv/${op}?n=${K}` })),
    ];
    process.stderr.write(`  sequential: ${s.sequential} requests per target, interleaved\n`);
    const endToEnd = await sequential(targets, s.sequential);
    const python: Target = { label: MOVING_AVERAGE_PY, client: c, route: '/fn/movingaverage-py', init: { method: 'POST', body: '1-42' } };
    Object.assign(endToEnd, await sequential([python], s.sequential));
    const perOpUs: Record<string, number> = {};
    for (const op of OPS) {
      perOpUs[op] = Math.round(((endToEnd[`kv guest, ${K} × ${op}`].p50 - endToEnd[`kv guest, ${K} no-ops`].p50) / K) * 1000 * 10) / 10;
    }
    const ratio = (a: number, b: number) => Number((a / b).toFixed(3));
    return {
      endToEnd,
      perOpUs,
      ratios: {
        movingaverageOverTrivialJs: ratio(endToEnd[MOVING_AVERAGE].p50, endToEnd[TRIVIAL_JS].p50),
        movingaverageOverNoop: ratio(endToEnd[MOVING_AVERAGE].p50, endToEnd['kv guest, no-op'].p50),
        pythonOverJs: ratio(endToEnd[MOVING_AVERAGE_PY].p50, endToEnd[MOVING_AVERAGE].p50),
      },
    };
  } finally {
    await node.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export function kvTables(r: KvResult): string[][][] {
  const e2e = [['call (HTTP, sequential)', 'p50 ms', 'p95 ms', 'p99 ms']];
  for (const [label, s] of Object.entries(r.endToEnd)) e2e.push([label, String(s.p50), String(s.p95), String(s.p99)]);
  const ops = [['operation', 'in-function cost, µs (p50-based)'], ...OPS.map((op) => [op, String(r.perOpUs[op])])];
  ops.push(['movingaverage p50 ÷ echo p50', String(r.ratios.movingaverageOverTrivialJs)]);
  ops.push(['movingaverage p50 ÷ kv no-op p50', String(r.ratios.movingaverageOverNoop)]);
  ops.push(['movingaverage in Python p50 ÷ movingaverage (JS) p50', String(r.ratios.pythonOverJs)]);
  return [e2e, ops];
}
