// Scenario 1, cold start. Per function: the first request after a node restart (artefact read,
// compile, instantiate, call; the node process is fresh every time) and the first request right
// after a deploy to a fresh node, both with prewarming off; the first request after a restart with
// the node's warm-up off too (ENOKI_WARM_UP=0: the node's own invocation path is compiled by that
// request, as before the warm-up existed); then the first request after a restart
// with prewarming on, once the node reports every function warm. Baselines in the same run: starting an empty `node -e 0`
// process (spawn → exit), and a fresh component instance per request in-process (what
// per-request isolation pays on every call, see naive-instance.ts).

import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { summarize, type Summary } from '../stats.js';
import { EXAMPLES, benchEnv, deploy, runScript, startBenchNode, tempDir, type BenchNode, type Request } from './harness.js';
import type { NaiveResult } from './naive-instance.js';

export interface ColdSettings {
  restarts: number;
  /** Fresh nodes (and data directories) for "first request after deploy"; at least 1. */
  deploys: number;
  emptyStarts: number;
  /** Requests of the fresh-instance baseline: tiny guest, JS guest. */
  naiveCalls: { tiny: number; js: number };
}

export const COLD_FUNCTIONS: Array<{ name: string; kind: string; init: Request }> = [
  { name: 'hello', kind: 'WAT, tiny', init: {} },
  { name: 'echo', kind: 'JS', init: { method: 'POST', body: 'hi' } },
  { name: 'counter', kind: 'JS, increment', init: {} },
  { name: 'movingaverage', kind: 'JS, 4 KV ops', init: { method: 'POST', body: '0-42' } },
];

export interface ColdResult {
  /** `node -e 0`, spawn → exit, in the suite's environment (benchEnv). */
  emptyNodeStart: Summary;
  /** The same with the caller's NODE_EXTRA_CA_CERTS, when it is set. */
  emptyNodeStartWithExtraCaCerts?: Summary;
  /** `enoki start` from spawn to listening, functions deployed but not loaded. */
  nodeReady: Summary;
  afterRestart: Record<string, Summary>;
  /** The same with the node's warm-up off (ENOKI_WARM_UP=0). */
  afterRestartNoWarmUp: Record<string, Summary>;
  /** With ENOKI_PREWARM on: spawn → every deployed function warm (the node loads them in the
   * background after listening), and then the first request, which no longer pays the load. */
  prewarmReady: Summary;
  afterRestartPrewarmed: Record<string, Summary>;
  afterDeploy: Record<string, Summary>;
  deployMs: Record<string, Summary>;
  /** Fresh instance per request (hello, echo), in-process. */
  naive: Record<string, NaiveResult>;
  ratios: {
    /** Cold after restart p50 over the empty node start p50. */
    afterRestartOverEmptyNode: Record<string, number>;
  };
}

/** Polls the node's gauges until `count` warm instances exist; resolves to the time it took. */
async function untilWarm(node: BenchNode, count: number, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const { body } = await node.client.send('/metrics');
    const warm = Number(/^enoki_warm_instances (\d+)/m.exec(body)?.[1] ?? 0);
    if (warm >= count) return;
    if (performance.now() > deadline) throw new Error(`only ${warm} of ${count} functions prewarmed after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function emptyNodeStart(env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore', env });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(performance.now() - t) : reject(new Error(`node -e 0 exited ${code}`))));
  });
}

async function deployExamples(node: BenchNode, deployMs: Record<string, number[]>, firstCall: Record<string, number[]>): Promise<void> {
  for (const fn of COLD_FUNCTIONS) {
    deployMs[fn.name].push(await deploy(node, fn.name, path.join(EXAMPLES, `${fn.name}.wasm`)));
    firstCall[fn.name].push(await node.client.timed(`/fn/${fn.name}`, fn.init));
  }
}

export async function coldScenario(s: ColdSettings): Promise<ColdResult> {
  const names = COLD_FUNCTIONS.map((f) => f.name);
  const perFunction = () => Object.fromEntries(names.map((n) => [n, [] as number[]]));
  const empty: number[] = [];
  process.stderr.write(`  empty node start ×${s.emptyStarts}\n`);
  for (let i = 0; i < s.emptyStarts; i++) empty.push(await emptyNodeStart(benchEnv()));
  // For the record: what this shell's own environment adds to a start (see benchEnv).
  const inherited: number[] = [];
  if (process.env.NODE_EXTRA_CA_CERTS) for (let i = 0; i < s.emptyStarts; i++) inherited.push(await emptyNodeStart(process.env));

  // Each deploy round uses a fresh node and data directory; the last one's directory is then
  // restarted from, function by function.
  const deployMs = perFunction();
  const afterDeploy = perFunction();
  const dirs: string[] = [];
  for (let d = 0; d < s.deploys; d++) {
    process.stderr.write(`  first request after deploy, fresh node ${d + 1}/${s.deploys}\n`);
    dirs.push(await tempDir('cold'));
    const node = await startBenchNode(dirs[d]);
    try {
      await node.client.timed('/healthz');
      await deployExamples(node, deployMs, afterDeploy);
    } finally {
      await node.stop();
    }
  }

  const ready: number[] = [];
  const afterRestart = perFunction();
  const afterRestartNoWarmUp = perFunction();
  const prewarmReady: number[] = [];
  const afterRestartPrewarmed = perFunction();
  try {
    process.stderr.write(`  first request after restart: ${s.restarts} restarts × ${names.length} functions\n`);
    for (let r = 0; r < s.restarts; r++) {
      for (const fn of COLD_FUNCTIONS) {
        const node = await startBenchNode(dirs[dirs.length - 1]);
        try {
          ready.push(node.startMs);
          await node.client.timed('/healthz'); // the connection is open: the timed request is the call
          afterRestart[fn.name].push(await node.client.timed(`/fn/${fn.name}`, fn.init));
        } finally {
          await node.stop();
        }
        const unwarmed = await startBenchNode(dirs[dirs.length - 1], { ENOKI_WARM_UP: '0' });
        try {
          await unwarmed.client.timed('/healthz');
          afterRestartNoWarmUp[fn.name].push(await unwarmed.client.timed(`/fn/${fn.name}`, fn.init));
        } finally {
          await unwarmed.stop();
        }
        const warmed = await startBenchNode(dirs[dirs.length - 1], { ENOKI_PREWARM: '1' });
        try {
          const t = performance.now();
          await untilWarm(warmed, COLD_FUNCTIONS.length);
          prewarmReady.push(warmed.startMs + performance.now() - t);
          afterRestartPrewarmed[fn.name].push(await warmed.client.timed(`/fn/${fn.name}`, fn.init));
        } finally {
          await warmed.stop();
        }
      }
    }
  } finally {
    for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
  }

  process.stderr.write('  fresh instance per request (in-process): hello, echo\n');
  const naive: Record<string, NaiveResult> = {
    hello: await runScript<NaiveResult>('./naive-instance.js', [path.join(EXAMPLES, 'hello.wasm'), String(s.naiveCalls.tiny)]),
    echo: await runScript<NaiveResult>('./naive-instance.js', [path.join(EXAMPLES, 'echo.wasm'), String(s.naiveCalls.js)]),
  };

  const emptyNodeStartSummary = summarize(empty);
  const summaries = (m: Record<string, number[]>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, summarize(v)]));
  const restartSummaries = summaries(afterRestart);
  return {
    emptyNodeStart: emptyNodeStartSummary,
    emptyNodeStartWithExtraCaCerts: inherited.length > 0 ? summarize(inherited) : undefined,
    nodeReady: summarize(ready),
    afterRestart: restartSummaries,
    afterRestartNoWarmUp: summaries(afterRestartNoWarmUp),
    prewarmReady: summarize(prewarmReady),
    afterRestartPrewarmed: summaries(afterRestartPrewarmed),
    afterDeploy: summaries(afterDeploy),
    deployMs: summaries(deployMs),
    naive,
    ratios: {
      afterRestartOverEmptyNode: Object.fromEntries(
        names.map((n) => [n, Number((restartSummaries[n].p50 / emptyNodeStartSummary.p50).toFixed(3))]),
      ),
    },
  };
}

export function coldTables(r: ColdResult): string[][][] {
  const rows = [['function', 'kind', 'after restart p50 / p95 ms', '÷ empty node start', 'the same without the warm-up p50 ms', 'after restart, prewarmed p50 ms', 'after deploy p50 ms', 'deploy p50 ms', 'fresh instance per request p50 ms']];
  for (const fn of COLD_FUNCTIONS) {
    const restart = r.afterRestart[fn.name];
    rows.push([
      fn.name,
      fn.kind,
      `${restart.p50} / ${restart.p95}`,
      String(r.ratios.afterRestartOverEmptyNode[fn.name]),
      String(r.afterRestartNoWarmUp?.[fn.name]?.p50 ?? '—'),
      String(r.afterRestartPrewarmed[fn.name].p50),
      String(r.afterDeploy[fn.name].p50),
      String(Math.round(r.deployMs[fn.name].p50)),
      r.naive[fn.name] ? String(r.naive[fn.name].freshInstance.p50) : '—',
    ]);
  }
  const baselines = [
    ['baseline', 'p50 ms', 'p95 ms'],
    ['empty `node -e 0` start (spawn → exit)', String(r.emptyNodeStart.p50), String(r.emptyNodeStart.p95)],
    ...(r.emptyNodeStartWithExtraCaCerts
      ? [['the same with this shell’s NODE_EXTRA_CA_CERTS (not used by the suite)', String(r.emptyNodeStartWithExtraCaCerts.p50), String(r.emptyNodeStartWithExtraCaCerts.p95)]]
      : []),
    ['`enoki start` (spawn → listening)', String(r.nodeReady.p50), String(r.nodeReady.p95)],
    [`\`enoki start\` with ENOKI_PREWARM=1 (spawn → all ${COLD_FUNCTIONS.length} functions warm)`, String(r.prewarmReady.p50), String(r.prewarmReady.p95)],
  ];
  for (const [name, n] of Object.entries(r.naive)) {
    baselines.push([`${name}: fresh instance + call, in-process (compile once: ${n.compileMs} ms)`, String(n.freshInstance.p50), String(n.freshInstance.p95)]);
    baselines.push([`${name}: call to a warm instance, in-process`, String(n.warmInstance.p50), String(n.warmInstance.p95)]);
  }
  return [rows, baselines];
}
