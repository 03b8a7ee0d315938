// Scenario 4, replication: runs bench/replication.ts as it is (etcd and two cluster nodes as
// their own processes, writes to A at a steady rate, lag until B has each) and reads its JSON
// report. Its plain gRPC echo round trip over the same mTLS setup is the baseline the targets
// divide by; its own ratios over a Read on B are kept alongside.

import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Summary } from '../stats.js';
import { runChild, tempDir } from './harness.js';

export interface ReplicationSettings {
  writes: number;
  rate: number;
  rtt: number;
  modes: string[];
  methods: string[];
}

interface WritePhase {
  ack: Summary;
  lag: Summary;
  writeToVisible: Summary;
  visibleAtAck: number;
  missing: number;
  lateSends: number;
}

/** The report bench/replication.ts writes with --out. */
interface ReplicationReport {
  settings: Record<string, unknown>;
  scenarios: Array<{ mode: string; rtt: { echo: Summary; readB: Summary; updateA: Summary }; methods: Record<string, WritePhase> }>;
}

export interface ReplicationRun {
  mode: string;
  method: string;
  echo: Summary;
  readB: Summary;
  ack: Summary;
  lag: Summary;
  visibleAtAckPercent: number;
  missing: number;
  /** Lag p50 over the echo round trip p50; lag p99 over the echo p50 and over the echo p99. */
  lagP50OverEchoP50: number;
  lagP99OverEchoP50: number;
  lagP99OverEchoP99: number;
}

export async function replicationScenario(s: ReplicationSettings): Promise<ReplicationRun[]> {
  const dir = await tempDir('replication');
  const out = path.join(dir, 'replication.json');
  try {
    const script = fileURLToPath(new URL('../replication.js', import.meta.url));
    const args = [`--writes=${s.writes}`, `--rate=${s.rate}`, `--rtt=${s.rtt}`, `--modes=${s.modes.join(',')}`, `--methods=${s.methods.join(',')}`, `--out=${out}`];
    process.stderr.write(`  node dist/bench/replication.js ${args.slice(0, -1).join(' ')}\n`);
    await runChild(process.execPath, [script, ...args], { timeoutMs: 600_000 });
    const report = JSON.parse(await fs.readFile(out, 'utf8')) as ReplicationReport;
    const ratio = (a: number, b: number) => Number((a / b).toFixed(2));
    return report.scenarios.flatMap((sc) =>
      Object.entries(sc.methods).map(([method, w]) => ({
        mode: sc.mode,
        method,
        echo: sc.rtt.echo,
        readB: sc.rtt.readB,
        ack: w.ack,
        lag: w.lag,
        visibleAtAckPercent: w.visibleAtAck,
        missing: w.missing,
        lagP50OverEchoP50: ratio(w.lag.p50, sc.rtt.echo.p50),
        lagP99OverEchoP50: ratio(w.lag.p99, sc.rtt.echo.p50),
        lagP99OverEchoP99: ratio(w.lag.p99, sc.rtt.echo.p99),
      })),
    );
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export function replicationTables(runs: ReplicationRun[]): string[][][] {
  const rows = [['mode', 'method', 'gRPC echo p50 / p99 ms', 'Read on B p50 / p99 ms', 'ack p50 / p99 ms', 'lag p50 / p95 / p99 ms', 'B had it at ack', 'lag p50 ÷ echo p50', 'lag p99 ÷ echo p50', 'lag p99 ÷ echo p99']];
  for (const r of runs) {
    rows.push([
      r.mode,
      r.method,
      `${r.echo.p50} / ${r.echo.p99}`,
      `${r.readB.p50} / ${r.readB.p99}`,
      `${r.ack.p50} / ${r.ack.p99}`,
      `${r.lag.p50} / ${r.lag.p95} / ${r.lag.p99}` + (r.missing ? ` (${r.missing} never seen)` : ''),
      `${r.visibleAtAckPercent} %`,
      String(r.lagP50OverEchoP50),
      String(r.lagP99OverEchoP50),
      String(r.lagP99OverEchoP99),
    ]);
  }
  return [rows];
}
