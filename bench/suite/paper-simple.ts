// Scenario 5, the paper's *simple* experiment at the edge: bench/paper/simple.ts as it is (etcd,
// the node edge1, a delay proxy emulating the client ↔ edge link of 1 ms each way; 10 client
// threads at 1 request/s each calling movingaverage), in its modes `plain` (a plain Node server,
// not the runtime, at the same pace: what the machine itself costs such a request), `direct` (no
// emulated link: the runtime's own share) and `edge`, read from its JSON report. Under the
// Pi-class profile the node runs in a cgroup of its own (the cluster joins it, see cgroup.ts).

import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Summary } from '../stats.js';
import { NODES_VARIABLE, type CgroupUsage, type NodeCgroups } from './cgroup.js';
import { runChild, tempDir } from './harness.js';

export interface PaperSimpleSettings {
  /** Seconds per mode (the paper: 300). */
  durationS: number;
}

export interface PaperSimpleMode {
  mode: string;
  route: string;
  networkRttMs: number;
  latency: Summary;
  errors: number;
  statuses: Record<string, number>;
}

export interface PaperSimpleResult {
  threads: number;
  frequency: number;
  durationS: number;
  modes: PaperSimpleMode[];
  /** What a proxied link costs beyond its delay, per direction, ms (p50). */
  linkOverheadMs: number;
  /** The proxies' delivery lateness, ms. */
  proxyLateness: { p50: number; p99: number; max: number };
  cgroups?: CgroupUsage[];
}

interface SimpleReport {
  settings: { threads: number; frequency: number; durationS: number };
  results: Array<PaperSimpleMode & { samples?: unknown }>;
  proxyLateness: { p50: number; p99: number; max: number };
  linkOverhead: { perDirectionMs: number };
}

export async function paperSimpleScenario(s: PaperSimpleSettings, cgroups?: NodeCgroups): Promise<PaperSimpleResult> {
  const dir = await tempDir('paper-simple');
  const out = path.join(dir, 'simple.json');
  const cgroup = cgroups ? await cgroups.create('paper simple: edge1') : undefined;
  const used: CgroupUsage[] = [];
  try {
    const script = fileURLToPath(new URL('../paper/simple.js', import.meta.url));
    const args = ['--modes', 'plain,direct,edge', '--duration', String(s.durationS), '--out', out];
    process.stderr.write(`  node dist/bench/paper/simple.js ${args.slice(0, -2).join(' ')}${cgroup ? ' (edge1 in its cgroup)' : ''}\n`);
    await runChild(process.execPath, [script, ...args], { timeoutMs: 600_000, env: cgroup ? { [NODES_VARIABLE]: cgroup.procsFiles.join(':') } : {} });
    const report = JSON.parse(await fs.readFile(out, 'utf8')) as SimpleReport;
    return {
      threads: report.settings.threads,
      frequency: report.settings.frequency,
      durationS: report.settings.durationS,
      modes: report.results.map(({ mode, route, networkRttMs, latency, errors, statuses }) => ({ mode, route, networkRttMs, latency, errors, statuses })),
      linkOverheadMs: report.linkOverhead.perDirectionMs,
      proxyLateness: report.proxyLateness,
      cgroups: used,
    };
  } finally {
    // The cluster has stopped its node by now; `used` is filled before the result is returned.
    if (cgroup) used.push(await cgroups!.finish(cgroup));
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export function paperSimpleTables(r: PaperSimpleResult): string[][][] {
  const rows = [['mode', 'route', 'link RTT ms', 'n', 'p50 ms', 'p95 ms', 'p99 ms', 'failed requests']];
  for (const m of r.modes) {
    rows.push([m.mode, m.route, String(m.networkRttMs), String(m.latency.n), String(m.latency.p50), String(m.latency.p95), String(m.latency.p99), String(m.errors)]);
  }
  rows.push([
    `(${r.threads} threads × ${r.frequency} req/s, ${r.durationS} s a mode)`,
    `a proxied link adds ${r.linkOverheadMs} ms each way; proxy lateness p50 ${r.proxyLateness.p50.toFixed(3)}, p99 ${r.proxyLateness.p99.toFixed(2)} ms`,
    '',
    '',
    '',
    '',
    '',
    '',
  ]);
  return [rows];
}
