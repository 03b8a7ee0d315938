// Scenario 7, the `npm start` node: `enoki start --examples` (the script `npm start` runs, with
// its defaults and environment: prewarming on, glibc's malloc settings as package.json sets
// them) deploys every built example; once all of them are warm, 20 distinct JS functions
// (bench/guests/variant.js, each built with its own constant) are deployed through the API and
// each is called once, as a user adding functions to that node would. RSS is read (settled) with
// the examples warm, and after the 20 functions: the target is the latter.
// Then the same node is restarted (everything deployed, all prewarmed again) and read once more:
// the first start also holds what its deploys left behind, a restart does not.

import fs from 'node:fs/promises';
import type { CgroupUsage } from './cgroup.js';
import { EXAMPLES, MiB, deploy, metric, onNode, settledRss, sleep, startBenchNode, tempDir, type BenchNode } from './harness.js';

export interface ExamplesNodeResult {
  examples: number;
  /** Spawn → listening (the examples are deployed before the node says so), ms. */
  readyMs: number;
  /** Spawn → every example warm (prewarmed in the background), ms; undefined if they never all were. */
  examplesWarmMs?: number;
  examplesIdleMiB: number;
  functions: number;
  /** RSS after the first k added functions were each called once. */
  steps: Array<{ functions: number; rssMiB: number }>;
  withFunctionsMiB: number;
  /**
   * The same node once deploying is over: DEPLOY_SETTLE_MS after the last deploy, when the thread
   * running jco's transpiler (functions/isolated-transpiler.ts, ended 10 s after its last deploy)
   * is gone.
   */
  settledMiB?: number;
  perFunctionMiB: number;
  /** The same node restarted with the examples and the 20 functions, all prewarmed. */
  restartedMiB?: number;
  restartedWarm?: number;
  warmInstances?: number;
  warmInstanceMemoryMiB?: number;
  cgroups?: CgroupUsage[];
}

export const ADDED_FUNCTIONS = 20;
/** The transpiler thread's idle time (10 s) and a margin. */
const DEPLOY_SETTLE_MS = 12_000;

/** As `npm start` runs it; its malloc settings come with every node spawnNode starts. */
const NPM_START_ENV = { ENOKI_PREWARM: '1' };

/** Waits until the node holds `count` warm instances, or the count stops growing for `quietMs`. */
async function untilWarm(node: BenchNode, count: number, quietMs = 5000, timeoutMs = 180_000): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  let last = -1;
  let since = performance.now();
  for (;;) {
    const warm = (await metric(node, 'enoki_warm_instances')) ?? 0;
    if (warm >= count) return true;
    if (warm !== last) {
      last = warm;
      since = performance.now();
    } else if (performance.now() - since > quietMs || performance.now() > deadline) {
      return false;
    }
    await sleep(50);
  }
}

async function measure(node: BenchNode, examples: number, wasm: string[], t: number, cgroups: CgroupUsage[], at: { step: string }): Promise<ExamplesNodeResult> {
  const readyMs = node.startMs;
  at.step = 'waiting for the examples to be warm';
  const allWarm = await untilWarm(node, examples);
  const examplesWarmMs = allWarm ? performance.now() - t : undefined;
  const idle = await settledRss(node.pid);
  process.stderr.write(`  + ${ADDED_FUNCTIONS} distinct JS functions, each called once\n`);
  const steps: Array<{ functions: number; rssMiB: number }> = [];
  for (let i = 0; i < wasm.length; i++) {
    at.step = `deploying added function ${i + 1} of ${wasm.length}`;
    await deploy(node, `added${i}`, wasm[i]);
  }
  const lastDeploy = performance.now();
  let last = idle;
  for (let i = 0; i < wasm.length; i++) {
    at.step = `calling added function ${i + 1} of ${wasm.length}`;
    const reply = await node.client.send(`/fn/added${i}`);
    if (reply.status !== 200 || !reply.body.startsWith(`variant ${i}:`)) throw new Error(`added${i} answered ${reply.status}: ${reply.body.slice(0, 200)}`);
    if ((i + 1) % 10 === 0 || i + 1 === wasm.length) {
      last = await settledRss(node.pid, 2000);
      steps.push({ functions: i + 1, rssMiB: MiB(last) });
    }
  }
  at.step = 'waiting for deploying to be over';
  const settled = await settledRss(node.pid, Math.max(0, DEPLOY_SETTLE_MS - (performance.now() - lastDeploy)));
  const instances = await metric(node, 'enoki_warm_instances');
  const bytes = await metric(node, 'enoki_warm_instance_memory_bytes');
  return {
    examples,
    readyMs: Math.round(readyMs),
    examplesWarmMs: examplesWarmMs === undefined ? undefined : Math.round(examplesWarmMs),
    examplesIdleMiB: MiB(idle),
    functions: wasm.length,
    steps,
    withFunctionsMiB: MiB(last),
    settledMiB: MiB(settled),
    perFunctionMiB: MiB((last - idle) / wasm.length),
    warmInstances: instances,
    warmInstanceMemoryMiB: bytes === undefined ? undefined : MiB(bytes),
    // Filled in by the caller once the node has stopped, before the result leaves the scenario.
    cgroups,
  };
}

export async function examplesNodeScenario(jsWasm: string[]): Promise<ExamplesNodeResult> {
  const wasm = jsWasm.slice(0, ADDED_FUNCTIONS);
  if (wasm.length < ADDED_FUNCTIONS) throw new Error(`${ADDED_FUNCTIONS} distinct JS functions needed, ${wasm.length} built`);
  const examples = (await fs.readdir(EXAMPLES)).filter((f) => f.endsWith('.wasm')).length;
  const dir = await tempDir('examples-node');
  const cgroups: CgroupUsage[] = [];
  process.stderr.write(`  enoki start --examples (${examples} examples, prewarming on, as npm start)\n`);
  const t = performance.now();
  const node = await startBenchNode(dir, NPM_START_ENV, { args: ['--examples'], label: 'npm start node', startTimeoutMs: 300_000 });
  try {
    const at = { step: 'starting' };
    const result = await onNode(node, () => `the npm start node, ${at.step}`, () => measure(node, examples, wasm, t, cgroups, at));
    const usage = await node.stop();
    if (usage) cgroups.push(usage);
    process.stderr.write('  restarted with the examples and the 20 functions, all prewarmed\n');
    const again = await startBenchNode(dir, NPM_START_ENV, { args: ['--examples'], label: 'npm start node, restarted', startTimeoutMs: 300_000 });
    try {
      await onNode(again, 'the restarted npm start node', async () => {
        await untilWarm(again, examples + wasm.length);
        result.restartedWarm = await metric(again, 'enoki_warm_instances');
        result.restartedMiB = MiB(await settledRss(again.pid, 2000));
      });
    } finally {
      const used = await again.stop();
      if (used) cgroups.push(used);
    }
    return result;
  } finally {
    await node.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export function examplesNodeTables(r: ExamplesNodeResult): string[][][] {
  return [
    [
      ['`enoki start --examples` node', 'value'],
      ['examples deployed', String(r.examples)],
      ['spawn → listening (examples deployed), ms', String(r.readyMs)],
      [`spawn → all ${r.examples} examples warm (prewarmed), ms`, r.examplesWarmMs === undefined ? 'not all warm' : String(r.examplesWarmMs)],
      ['RSS, examples warm, idle, MiB', String(r.examplesIdleMiB)],
      ...r.steps.map((s) => [`RSS + ${s.functions} distinct JS functions, each called once, MiB`, String(s.rssMiB)]),
      ['per added JS function, MiB', String(r.perFunctionMiB)],
      [`RSS once deploying is over (${DEPLOY_SETTLE_MS / 1000} s after the last deploy), MiB`, String(r.settledMiB ?? '—')],
      [`RSS of the same node restarted, all prewarmed (${r.restartedWarm ?? '?'} warm instances), MiB`, String(r.restartedMiB ?? '—')],
      ['warm instances; their linear memory, MiB', `${r.warmInstances ?? '?'}; ${r.warmInstanceMemoryMiB ?? '?'}`],
    ],
  ];
}
