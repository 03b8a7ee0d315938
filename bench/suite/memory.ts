// Scenario 6, memory: the node's resident set (RSS, read from /proc) idle, with N tiny functions,
// and per further distinct JS function, as differences between states of the same process, each
// read after the node has been left alone for a moment. Next to it the node's own gauges
// enoki_warm_instances and enoki_warm_instance_memory_bytes (guest linear memory only).
//
// Tiny: N distinct tiny components (own digests: nothing shared but the node) are deployed; the
// node is restarted (so what the deploys left on the heap is not counted), then each is called
// once. JS: the same with JS_FUNCTIONS distinct JS components (bench/guests/variant.js, built with
// different constants: they share the JS engine, not their data), RSS read after the first call
// and after each step, so the cost of each further function is (RSS after all − RSS after the
// first) ÷ (JS_FUNCTIONS − 1).

import fs from 'node:fs/promises';
import type { CgroupUsage } from './cgroup.js';
import { MiB, deploy, metric, settledRss, startBenchNode, tempDir, type BenchNode } from './harness.js';

export interface MemoryResult {
  tiny: {
    functions: number;
    idleMiB: number;
    /** Same process, right after the deploys (includes what transpiling left on the heap). */
    afterDeploysMiB: number;
    /** Restarted, functions registered, none loaded. */
    deployedIdleMiB: number;
    /** Each function called once: one warm instance each. */
    deployedWarmMiB: number;
    /** The same 1 s after the calls, before the node's idle collection. */
    deployedWarmEarlyMiB: number;
    perWarmInstanceMiB: number;
    warmInstances?: number;
    linearMemoryPerInstanceMiB?: number;
  };
  js: {
    functions: number;
    /** Same process, right after the deploys. */
    afterDeploysMiB: number;
    /** Restarted, functions registered, none loaded. */
    deployedIdleMiB: number;
    /** RSS after the first k functions were each called once. */
    steps: Array<{ functions: number; rssMiB: number }>;
    /** The first function: the shared engine's compiled code and its first instance. */
    firstFunctionMiB: number;
    /** Each further function (engine shared): (RSS after all − after the first) ÷ (n − 1). */
    perFurtherFunctionMiB: number;
    /** The same over the second half only: what one more function costs once the engine is settled. */
    perFunctionSecondHalfMiB: number;
    warmInstances?: number;
    linearMemoryPerInstanceMiB?: number;
  };
  /** Pi-class profile: each node's cgroup. */
  cgroups?: CgroupUsage[];
}

/** Distinct JS functions the per-function figure is taken over. */
export const JS_FUNCTIONS = 20;
const JS_STEPS = [1, 2, 5, 10, JS_FUNCTIONS];
/**
 * How long the node is left alone before its RSS is read: past the start of its idle collection
 * (ENOKI_IDLE_COLLECT_MS, 2 s, looked at every 0.5 s; exec/idle-collector.ts), and past V8's
 * background tier-up of a JS engine's hot code after its first calls.
 */
const SETTLE_MS = 3500;

async function linearPerInstance(node: BenchNode): Promise<{ instances?: number; perInstanceMiB?: number }> {
  const instances = await metric(node, 'enoki_warm_instances');
  const bytes = await metric(node, 'enoki_warm_instance_memory_bytes');
  return { instances, perInstanceMiB: instances && bytes !== undefined ? MiB(bytes / instances) : undefined };
}

async function tinyPart(tinyWasm: string[], cgroups: CgroupUsage[]): Promise<MemoryResult['tiny']> {
  const dir = await tempDir('memory-tiny');
  const start = async (label: string) => startBenchNode(dir, {}, { label });
  const stop = async (node: BenchNode) => {
    const usage = await node.stop();
    if (usage) cgroups.push(usage);
  };
  let node = await start('memory: tiny functions, deploys');
  try {
    await node.client.timed('/healthz');
    const idle = await settledRss(node.pid, SETTLE_MS);
    for (let i = 0; i < tinyWasm.length; i++) await deploy(node, `tiny${i}`, tinyWasm[i]);
    const afterDeploys = await settledRss(node.pid, SETTLE_MS);
    await stop(node);
    node = await start('memory: 10 tiny functions');
    await node.client.timed('/healthz');
    const deployedIdle = await settledRss(node.pid, SETTLE_MS);
    for (let i = 0; i < tinyWasm.length; i++) await node.client.timed(`/fn/tiny${i}`);
    // settledRss waits 1 s, then reads for 0.5 s: the second reading ends SETTLE_MS after the calls.
    const deployedWarmEarly = await settledRss(node.pid);
    const deployedWarm = await settledRss(node.pid, SETTLE_MS - 1500);
    const linear = await linearPerInstance(node);
    return {
      functions: tinyWasm.length,
      idleMiB: MiB(idle),
      afterDeploysMiB: MiB(afterDeploys),
      deployedIdleMiB: MiB(deployedIdle),
      deployedWarmMiB: MiB(deployedWarm),
      deployedWarmEarlyMiB: MiB(deployedWarmEarly),
      perWarmInstanceMiB: MiB((deployedWarm - deployedIdle) / tinyWasm.length),
      warmInstances: linear.instances,
      linearMemoryPerInstanceMiB: linear.perInstanceMiB,
    };
  } finally {
    await stop(node);
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function jsPart(jsWasm: string[], cgroups: CgroupUsage[]): Promise<MemoryResult['js']> {
  const wasm = jsWasm.slice(0, JS_FUNCTIONS);
  if (wasm.length < JS_FUNCTIONS) throw new Error(`${JS_FUNCTIONS} distinct JS functions needed, ${wasm.length} built`);
  const dir = await tempDir('memory-js');
  const start = async (label: string) => startBenchNode(dir, {}, { label });
  const stop = async (node: BenchNode) => {
    const usage = await node.stop();
    if (usage) cgroups.push(usage);
  };
  let node = await start('memory: JS functions, deploys');
  try {
    for (let i = 0; i < wasm.length; i++) await deploy(node, `js${i}`, wasm[i]);
    const afterDeploys = await settledRss(node.pid, SETTLE_MS);
    await stop(node);
    node = await start(`memory: ${JS_FUNCTIONS} JS functions`);
    await node.client.timed('/healthz');
    const deployedIdle = await settledRss(node.pid, SETTLE_MS);
    const steps: Array<{ functions: number; rssMiB: number }> = [];
    const rss: Record<number, number> = {};
    for (let i = 0; i < wasm.length; i++) {
      const reply = await node.client.send(`/fn/js${i}`);
      // Variant i answers with its own number: each call reached its own function.
      if (reply.status !== 200 || !reply.body.startsWith(`variant ${i}:`)) throw new Error(`js${i} answered ${reply.status}: ${reply.body.slice(0, 200)}`);
      if (JS_STEPS.includes(i + 1)) {
        rss[i + 1] = await settledRss(node.pid, SETTLE_MS);
        steps.push({ functions: i + 1, rssMiB: MiB(rss[i + 1]) });
      }
    }
    const linear = await linearPerInstance(node);
    return {
      functions: wasm.length,
      afterDeploysMiB: MiB(afterDeploys),
      deployedIdleMiB: MiB(deployedIdle),
      steps,
      firstFunctionMiB: MiB(rss[1] - deployedIdle),
      perFurtherFunctionMiB: MiB((rss[wasm.length] - rss[1]) / (wasm.length - 1)),
      perFunctionSecondHalfMiB: MiB((rss[wasm.length] - rss[wasm.length / 2]) / (wasm.length / 2)),
      warmInstances: linear.instances,
      linearMemoryPerInstanceMiB: linear.perInstanceMiB,
    };
  } finally {
    await stop(node);
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export async function memoryScenario(tinyWasm: string[], jsWasm: string[]): Promise<MemoryResult> {
  const cgroups: CgroupUsage[] = [];
  process.stderr.write(`  ${tinyWasm.length} tiny functions\n`);
  const tiny = await tinyPart(tinyWasm, cgroups);
  process.stderr.write(`  ${JS_FUNCTIONS} distinct JS functions\n`);
  const js = await jsPart(jsWasm, cgroups);
  return { tiny, js, cgroups: cgroups.length > 0 ? cgroups : undefined };
}

export function memoryTables(r: MemoryResult): string[][][] {
  const t = r.tiny;
  const j = r.js;
  const rows = [
    ['node state', 'RSS MiB'],
    ['idle, no functions', String(t.idleMiB)],
    [`same process, right after deploying ${t.functions} tiny functions`, String(t.afterDeploysMiB)],
    [`restarted with ${t.functions} tiny functions, none loaded`, String(t.deployedIdleMiB)],
    [`${t.functions} tiny functions, each called once (${t.warmInstances ?? '?'} warm instances), 1 s later`, String(t.deployedWarmEarlyMiB)],
    [`the same, ${SETTLE_MS / 1000} s after the calls (after the node's idle collection)`, String(t.deployedWarmMiB)],
    [`a fresh node right after deploying ${j.functions} distinct JS functions`, String(j.afterDeploysMiB)],
    [`restarted with ${j.functions} JS functions, none loaded`, String(j.deployedIdleMiB)],
    ...j.steps.map((s) => [`the first ${s.functions} JS function(s) each called once`, String(s.rssMiB)]),
  ];
  const per = [
    ['per function', 'RSS delta MiB', 'linear memory MiB (enoki_warm_instance_memory_bytes ÷ instances)'],
    ['tiny (WAT), incl. its compiled module', String(t.perWarmInstanceMiB), String(t.linearMemoryPerInstanceMiB ?? '—')],
    ['first JS function: the shared engine (compiled) + its instance', String(j.firstFunctionMiB), '—'],
    ['each further distinct JS function, warm', String(j.perFurtherFunctionMiB), String(j.linearMemoryPerInstanceMiB ?? '—')],
    [`the same over functions ${j.functions / 2 + 1}–${j.functions} only`, String(j.perFunctionSecondHalfMiB), '—'],
  ];
  return [rows, per];
}
