// The performance targets of issue 11, in the order of its table, each checked against figures
// and baselines of one run. A scenario that did not run (or failed) leaves its targets "not
// measured", never met. Every verdict names the Node version that ran what it measured.

import type { CgroupUsage } from './cgroup.js';
import type { ColdResult } from './cold.js';
import type { ExamplesNodeResult } from './examples-node.js';
import type { FreshCloneResult } from './fresh-clone.js';
import type { KvResult } from './kv.js';
import type { MemoryResult } from './memory.js';
import type { PaperSimpleResult } from './paper-simple.js';
import type { PeersResult } from './peers.js';
import type { ReplicationRun } from './replication.js';
import { BARE, JS, TINY, type WarmResult } from './warm.js';

export interface SuiteResults {
  cold?: ColdResult;
  warm?: WarmResult;
  kv?: KvResult;
  replication?: ReplicationRun[];
  paper?: PaperSimpleResult;
  memory?: MemoryResult;
  examples?: ExamplesNodeResult;
  fresh?: FreshCloneResult;
  peers?: PeersResult;
}

export interface TargetVerdict {
  /** The scenario whose figures the target is checked against. */
  scenario: keyof SuiteResults;
  target: string;
  /** The measured quantity, in the target's own terms. */
  measured: string;
  value?: number;
  limit: number;
  /** The Node version that ran the measured processes. */
  node: string;
  /** undefined: not measured in this run. */
  met?: boolean;
  /** Checked over the whole run rather than one scenario (the Pi-class verdict). */
  wholeRun?: boolean;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const MB = (mib: number) => (mib * 2 ** 20) / 1e6;

export function evaluateTargets(r: SuiteResults, node: string = process.version): TargetVerdict[] {
  const check = (
    scenario: keyof SuiteResults,
    target: string,
    value: number | undefined,
    limit: number,
    kind: 'max' | 'min',
    measured: (v: number) => string,
    ranOn = node,
  ): TargetVerdict => {
    if (value === undefined || !Number.isFinite(value)) return { scenario, target, measured: 'not measured', limit, node: ranOn };
    return { scenario, target, measured: measured(value), value, limit, node: ranOn, met: kind === 'max' ? value <= limit : value >= limit };
  };
  const w = r.warm;
  const peak = (label: string) => (w ? Math.max(...w.load[label].map((p) => p.reqPerS)) : NaN);
  const asyncTrigger = r.replication?.find((x) => x.mode === 'async' && x.method === 'trigger') ?? r.replication?.[0];
  const c = r.cold;
  const edge = r.paper?.modes.find((m) => m.mode === 'edge');
  const direct = r.paper?.modes.find((m) => m.mode === 'direct');
  const plain = r.paper?.modes.find((m) => m.mode === 'plain');
  const m = r.memory;
  const e = r.examples;
  const f = r.fresh;
  return [
    check('warm', 'Warm throughput, tiny guest ≥ 50 % of the bare Hono route (peak req/s)', w?.ratios.throughputOverBare[TINY], 0.5, 'min', (v) => `${pct(v)} (${peak(TINY)} vs ${peak(BARE)} req/s)`),
    check('warm', 'Warm throughput, JS guest ≥ 25 % of the bare route (peak req/s)', w?.ratios.throughputOverBare[JS], 0.25, 'min', (v) => `${pct(v)} (${peak(JS)} vs ${peak(BARE)} req/s)`),
    check('warm', 'Warm sequential p50, tiny guest ≤ bare route + 0.1 ms', w?.ratios.p50OverBare[TINY], 0.1, 'max', (v) => `+${v.toFixed(3)} ms (${w!.sequential[TINY].p50} vs ${w!.sequential[BARE].p50} ms)`),
    check('cold', 'Cold start after restart, tiny guest ≤ 0.1× an empty `node` start', c?.ratios.afterRestartOverEmptyNode.hello, 0.1, 'max', (v) => `${v.toFixed(2)}× (${c!.afterRestart.hello.p50} vs ${c!.emptyNodeStart.p50} ms; without the node's warm-up: ${c!.afterRestartNoWarmUp?.hello?.p50 ?? '?'} ms; prewarmed: ${c!.afterRestartPrewarmed.hello.p50} ms)`),
    check('cold', 'Cold start after restart, JS guest (echo) ≤ 1× an empty `node` start', c?.ratios.afterRestartOverEmptyNode.echo, 1, 'max', (v) => `${v.toFixed(2)}× (${c!.afterRestart.echo.p50} vs ${c!.emptyNodeStart.p50} ms; without the node's warm-up: ${c!.afterRestartNoWarmUp?.echo?.p50 ?? '?'} ms; prewarmed: ${c!.afterRestartPrewarmed.echo.p50} ms)`),
    check('kv', 'movingaverage (4 KV ops) warm p50 ≤ 2× echo', r.kv?.ratios.movingaverageOverTrivialJs, 2, 'max', (v) => `${v.toFixed(2)}× (${r.kv!.endToEnd['movingaverage (4 KV ops)']?.p50} vs ${r.kv!.endToEnd['echo (trivial JS)']?.p50} ms)`),
    check('replication', 'Replication lag p50 ≤ 1.5× a gRPC round trip (p50)', asyncTrigger?.lagP50OverEchoP50, 1.5, 'max', (v) => `${v.toFixed(2)}× (${asyncTrigger!.lag.p50} vs ${asyncTrigger!.echo.p50} ms; ${asyncTrigger!.mode}, ${asyncTrigger!.method})`),
    check('replication', 'Replication lag p99 ≤ 10× a gRPC round trip (p50)', asyncTrigger?.lagP99OverEchoP50, 10, 'max', (v) => `${v.toFixed(2)}× (${asyncTrigger!.lag.p99} vs ${asyncTrigger!.echo.p50} ms; ÷ round trip p99: ${asyncTrigger!.lagP99OverEchoP99}×)`),
    check('paper', 'Paper *simple* at the edge: p50 ≤ 3 ms incl. the emulated 2 ms round trip', edge?.latency.p50, 3, 'max', (v) => `${v} ms (p99 ${edge!.latency.p99}; without the link: ${direct?.latency.p50 ?? '?'} ms; a plain Node server at the same pace: ${plain?.latency.p50 ?? '?'} ms; ${edge!.errors} failed of ${edge!.latency.n + edge!.errors})`),
    check('memory', 'Idle node + 10 tiny functions (each called once): RSS ≤ 80 MB', m ? MB(m.tiny.deployedWarmMiB) : undefined, 80, 'max', (v) => `${v.toFixed(1)} MB (${m!.tiny.deployedWarmMiB} MiB, ${m!.tiny.deployedWarmEarlyMiB ?? '?'} MiB 1 s after the calls, before the node's idle collection)`),
    check('memory', 'Each further distinct JS function, warm: ≤ 6 MiB RSS', m?.js.perFurtherFunctionMiB, 6, 'max', (v) => `${v} MiB (over ${m!.js.functions} functions; over the last ${m!.js.functions / 2}: ${m!.js.perFunctionSecondHalfMiB} MiB; the first, with the engine's compiled code: ${m!.js.firstFunctionMiB} MiB)`),
    // The node holding its functions, once deploying is over: the thread of jco's transpiler,
    // alive for 10 s after a deploy, is deploy machinery (its figure while alive is shown too).
    check('examples', 'The `npm start` node with its examples + 20 distinct warm JS functions: RSS ≤ 512 MiB', e?.settledMiB, 512, 'max', (v) => `${v} MiB once deploying is over (right after the deploys, transpiler thread alive: ${e!.withFunctionsMiB} MiB; examples warm: ${e!.examplesIdleMiB} MiB; ${e!.perFunctionMiB} MiB per added function; restarted, all warm: ${e!.restartedMiB ?? '?'} MiB)`),
    check('fresh', 'Fresh clone: `npm start` to first served request ≤ 20 s (plus `npm install`, apart)', f ? f.firstStart.totalMs / 1000 : undefined, 20, 'max', (v) => `${v.toFixed(1)} s (npm install: ${(f!.install.ms / 1000).toFixed(1)} s)`, f?.node ?? node),
    check('fresh', 'Restart to first request ≤ 1 s: `npm start`', f ? f.restartNpm.p50 / 1000 : undefined, 1, 'max', (v) => `${v.toFixed(2)} s (p50 of ${f!.restartNpm.n})`, f?.node ?? node),
    check('fresh', 'Restart to first request ≤ 1 s: `enoki start --examples`', f ? f.restartCli.p50 / 1000 : undefined, 1, 'max', (v) => `${v.toFixed(2)} s (p50 of ${f!.restartCli.n})`),
    check('peers', 'wasi:http components: Enoki ahead of jco serve on every figure (issue 13)', r.peers?.aheadOfJco === undefined ? undefined : Number(r.peers.aheadOfJco), 1, 'min', (v) => (v === 1 ? 'ahead on every figure' : 'behind on some (see the peers ratios)')),
  ];
}

/** The Pi-class profile's own verdict: no node killed, no request failed, no scenario lost. */
export function piVerdict(r: SuiteResults, used: CgroupUsage[], ranScenarios: string[], failedScenarios: string[], node: string = process.version): TargetVerdict {
  const oomKills = used.reduce((n, u) => n + (u.oomKills ?? 0), 0);
  const failedRequests = r.paper ? r.paper.modes.reduce((n, m) => n + m.errors, 0) : 0;
  const peak = used.length > 0 ? Math.max(...used.map((u) => u.peakMiB ?? 0)) : undefined;
  const measured = `${oomKills} OOM kill(s), ${failedRequests} failed request(s), ${failedScenarios.length === 0 ? 'every scenario completed' : `failed: ${failedScenarios.join(', ')}`}; highest cgroup peak ${peak ?? '?'} MiB`;
  return {
    scenario: 'memory',
    target: 'Pi-class profile: no OOM kill, no failed request',
    measured,
    value: oomKills + failedRequests + failedScenarios.length,
    limit: 0,
    node,
    met: ranScenarios.length === 0 ? undefined : oomKills === 0 && failedRequests === 0 && failedScenarios.length === 0,
    wholeRun: true,
  };
}

export function targetsTable(verdicts: TargetVerdict[]): string[][] {
  const rows = [['target', 'measured', 'Node', 'verdict']];
  for (const v of verdicts) rows.push([v.target, v.measured, v.node, v.met === undefined ? 'not measured' : v.met ? 'met' : 'missed']);
  return rows;
}
