// The performance targets of issue 4, each checked against the ratios of one run. A scenario that
// did not run (or failed) leaves its targets "not measured", never met.

import type { ColdResult } from './cold.js';
import type { KvResult } from './kv.js';
import type { MemoryResult } from './memory.js';
import type { PeersResult } from './peers.js';
import type { ReplicationRun } from './replication.js';
import { BARE, JS, TINY, type WarmResult } from './warm.js';

export interface SuiteResults {
  cold?: ColdResult;
  warm?: WarmResult;
  kv?: KvResult;
  replication?: ReplicationRun[];
  memory?: MemoryResult;
  peers?: PeersResult;
}

export interface TargetVerdict {
  target: string;
  /** The measured quantity, in the target's own terms. */
  measured: string;
  value?: number;
  limit: number;
  /** undefined: not measured in this run. */
  met?: boolean;
}

function check(target: string, value: number | undefined, limit: number, kind: 'max' | 'min', measured: (v: number) => string): TargetVerdict {
  if (value === undefined || !Number.isFinite(value)) return { target, measured: 'not measured', limit };
  return { target, measured: measured(value), value, limit, met: kind === 'max' ? value <= limit : value >= limit };
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

export function evaluateTargets(r: SuiteResults): TargetVerdict[] {
  const w = r.warm;
  const peak = (label: string) => (w ? Math.max(...w.load[label].map((p) => p.reqPerS)) : NaN);
  const asyncTrigger = r.replication?.find((x) => x.mode === 'async' && x.method === 'trigger') ?? r.replication?.[0];
  const c = r.cold;
  return [
    check('Warm throughput, tiny guest ≥ 50 % of the bare Hono route (peak req/s)', w?.ratios.throughputOverBare[TINY], 0.5, 'min', (v) => `${pct(v)} (${peak(TINY)} vs ${peak(BARE)} req/s)`),
    check('Warm throughput, JS guest ≥ 25 % of the bare route (peak req/s)', w?.ratios.throughputOverBare[JS], 0.25, 'min', (v) => `${pct(v)} (${peak(JS)} vs ${peak(BARE)} req/s)`),
    check('Warm sequential p50, tiny guest ≤ bare route + 0.1 ms', w?.ratios.p50OverBare[TINY], 0.1, 'max', (v) => `+${v.toFixed(3)} ms (${w!.sequential[TINY].p50} vs ${w!.sequential[BARE].p50} ms)`),
    check('Cold start after restart, tiny guest ≤ 0.1× an empty node start', c?.ratios.afterRestartOverEmptyNode.hello, 0.1, 'max', (v) => `${v.toFixed(2)}× (${c!.afterRestart.hello.p50} vs ${c!.emptyNodeStart.p50} ms; prewarmed: ${c!.afterRestartPrewarmed.hello.p50} ms)`),
    check('Cold start after restart, JS guest (echo) ≤ 1× an empty node start', c?.ratios.afterRestartOverEmptyNode.echo, 1, 'max', (v) => `${v.toFixed(2)}× (${c!.afterRestart.echo.p50} vs ${c!.emptyNodeStart.p50} ms; prewarmed: ${c!.afterRestartPrewarmed.echo.p50} ms)`),
    check('Moving average warm p50 ≤ 2× the trivial JS function (echo)', r.kv?.ratios.movingaverageOverTrivialJs, 2, 'max', (v) => `${v.toFixed(2)}×`),
    check('Replication lag p50 ≤ 3× a plain gRPC round trip (p50)', asyncTrigger?.lagP50OverEchoP50, 3, 'max', (v) => `${v.toFixed(2)}× (${asyncTrigger!.lag.p50} vs ${asyncTrigger!.echo.p50} ms; ${asyncTrigger!.mode}, ${asyncTrigger!.method})`),
    check('Replication lag p99 ≤ 10× a plain gRPC round trip (p50)', asyncTrigger?.lagP99OverEchoP50, 10, 'max', (v) => `${v.toFixed(2)}× (${asyncTrigger!.lag.p99} vs ${asyncTrigger!.echo.p50} ms; ÷ echo p99: ${asyncTrigger!.lagP99OverEchoP99}×)`),
    check('Idle node with 10 tiny functions (each called once): RSS ≤ 80 MB', r.memory ? (r.memory.tiny.deployedWarmMiB * 2 ** 20) / 1e6 : undefined, 80, 'max', (v) => `${v.toFixed(1)} MB (${r.memory!.tiny.deployedWarmMiB} MiB)`),
    check('wasi:http components: Enoki ahead of jco serve on every figure (issue 13)', r.peers?.aheadOfJco === undefined ? undefined : Number(r.peers.aheadOfJco), 1, 'min', (v) => (v === 1 ? 'ahead on every figure' : 'behind on some (see the peers ratios)')),
    check('A warm JS instance ≤ 6 MB (RSS per further instance)', r.memory ? (r.memory.js.perExtraInstanceMiB * 2 ** 20) / 1e6 : undefined, 6, 'max', (v) => `${v.toFixed(1)} MB (first instance incl. compiled code: ${r.memory!.js.firstInstanceMiB} MiB)`),
  ];
}

export function targetsTable(verdicts: TargetVerdict[]): string[][] {
  const rows = [['target', 'measured', 'verdict']];
  for (const v of verdicts) rows.push([v.target, v.measured, v.met === undefined ? 'not measured' : v.met ? 'met' : 'missed']);
  return rows;
}
