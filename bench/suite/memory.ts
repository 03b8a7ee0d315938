// Scenario 5, memory: the node's resident set (RSS, read from /proc) idle, with N tiny functions
// deployed, and per warm instance, as differences between states of the same process, each read
// after the node has been left alone for a moment. Next to it the node's own gauges
// enoki_warm_instances and enoki_warm_instance_memory_bytes (guest linear memory only).
//
// Tiny: N distinct tiny components (own digests: nothing shared but the node) are deployed; the
// node is restarted (so the transpiler's heap from the deploys is not counted), then each is
// called once (one worker: workers start on demand). JS: echo on a node with WORKERS workers, all
// started up front (ENOKI_MIN_WORKERS); one call (compile + first instance), then
// concurrent bursts until every worker holds a warm instance of it (further instances share the
// compiled code).

import fs from 'node:fs/promises';
import path from 'node:path';
import { EXAMPLES, MiB, deploy, metric, settledRss, startBenchNode, tempDir, type BenchNode } from './harness.js';

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
    perWarmInstanceMiB: number;
    warmInstances?: number;
    linearMemoryPerInstanceMiB?: number;
  };
  js: {
    workers: number;
    idleMiB: number;
    oneInstanceMiB: number;
    allWorkersMiB: number;
    warmInstances: number;
    /** First instance: compiled code + instance. */
    firstInstanceMiB: number;
    /** Each further instance (code shared). */
    perExtraInstanceMiB: number;
    linearMemoryPerInstanceMiB?: number;
  };
}

const JS_WORKERS = 4;

async function linearPerInstance(node: BenchNode): Promise<{ instances?: number; perInstanceMiB?: number }> {
  const instances = await metric(node, 'enoki_warm_instances');
  const bytes = await metric(node, 'enoki_warm_instance_memory_bytes');
  return { instances, perInstanceMiB: instances && bytes !== undefined ? MiB(bytes / instances) : undefined };
}

async function tinyPart(tinyWasm: string[]): Promise<MemoryResult['tiny']> {
  const dir = await tempDir('memory-tiny');
  let node = await startBenchNode(dir);
  try {
    await node.client.timed('/healthz');
    const idle = await settledRss(node.pid);
    for (let i = 0; i < tinyWasm.length; i++) await deploy(node, `tiny${i}`, tinyWasm[i]);
    const afterDeploys = await settledRss(node.pid);
    await node.stop();
    node = await startBenchNode(dir);
    await node.client.timed('/healthz');
    const deployedIdle = await settledRss(node.pid);
    for (let i = 0; i < tinyWasm.length; i++) await node.client.timed(`/fn/tiny${i}`);
    const deployedWarm = await settledRss(node.pid);
    const linear = await linearPerInstance(node);
    return {
      functions: tinyWasm.length,
      idleMiB: MiB(idle),
      afterDeploysMiB: MiB(afterDeploys),
      deployedIdleMiB: MiB(deployedIdle),
      deployedWarmMiB: MiB(deployedWarm),
      perWarmInstanceMiB: MiB((deployedWarm - deployedIdle) / tinyWasm.length),
      warmInstances: linear.instances,
      linearMemoryPerInstanceMiB: linear.perInstanceMiB,
    };
  } finally {
    await node.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function jsPart(): Promise<MemoryResult['js']> {
  const dir = await tempDir('memory-js');
  // Every worker started up front, so that further instances are measured without a worker's own cost.
  const env = { ENOKI_WORKERS: String(JS_WORKERS), ENOKI_MIN_WORKERS: String(JS_WORKERS) };
  let node = await startBenchNode(dir, env);
  try {
    await deploy(node, 'echo', path.join(EXAMPLES, 'echo.wasm'));
    await node.stop();
    node = await startBenchNode(dir, env);
    await node.client.timed('/healthz');
    const idle = await settledRss(node.pid);
    await node.client.timed('/fn/echo', { method: 'POST', body: 'hi' });
    const one = await settledRss(node.pid);
    // Concurrent calls go to idle workers; a worker without an instance makes one.
    for (let burst = 0; burst < 20 && ((await metric(node, 'enoki_warm_instances')) ?? 0) < JS_WORKERS; burst++) {
      await Promise.all(
        Array.from({ length: JS_WORKERS * 2 }, () => fetch(`${node.url}/fn/echo`, { method: 'POST', body: 'hi' }).then((r) => r.arrayBuffer())),
      );
    }
    const all = await settledRss(node.pid);
    const linear = await linearPerInstance(node);
    const instances = linear.instances ?? 1;
    return {
      workers: JS_WORKERS,
      idleMiB: MiB(idle),
      oneInstanceMiB: MiB(one),
      allWorkersMiB: MiB(all),
      warmInstances: instances,
      firstInstanceMiB: MiB(one - idle),
      perExtraInstanceMiB: instances > 1 ? MiB((all - one) / (instances - 1)) : NaN,
      linearMemoryPerInstanceMiB: linear.perInstanceMiB,
    };
  } finally {
    await node.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export async function memoryScenario(tinyWasm: string[]): Promise<MemoryResult> {
  process.stderr.write(`  ${tinyWasm.length} tiny functions\n`);
  const tiny = await tinyPart(tinyWasm);
  process.stderr.write(`  echo (JS) on ${JS_WORKERS} workers\n`);
  const js = await jsPart();
  return { tiny, js };
}

export function memoryTables(r: MemoryResult): string[][][] {
  const t = r.tiny;
  const j = r.js;
  const rows = [
    ['node state', 'RSS MiB'],
    ['idle, no functions', String(t.idleMiB)],
    [`same process, right after deploying ${t.functions} tiny functions`, String(t.afterDeploysMiB)],
    [`restarted with ${t.functions} tiny functions, none loaded`, String(t.deployedIdleMiB)],
    [`${t.functions} tiny functions, each called once (${t.warmInstances ?? '?'} warm instances)`, String(t.deployedWarmMiB)],
    [`echo deployed, ${j.workers} workers, idle`, String(j.idleMiB)],
    ['echo called once (compiled + 1 warm instance)', String(j.oneInstanceMiB)],
    [`echo warm on every worker (${j.warmInstances} instances)`, String(j.allWorkersMiB)],
  ];
  const per = [
    ['per warm instance', 'RSS delta MiB', 'linear memory MiB (enoki_warm_instance_memory_bytes ÷ instances)'],
    ['tiny (WAT), incl. its compiled module', String(t.perWarmInstanceMiB), String(t.linearMemoryPerInstanceMiB ?? '—')],
    ['JS (echo), first: compiled code + instance', String(j.firstInstanceMiB), '—'],
    ['JS (echo), each further instance', String(j.perExtraInstanceMiB), String(j.linearMemoryPerInstanceMiB ?? '—')],
  ];
  return [rows, per];
}
