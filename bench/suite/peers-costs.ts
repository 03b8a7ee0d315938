// Where Enoki's time goes in the peers scenario, measured apart: the p50 of the node's bare route
// (its HTTP stack with no guest) and the CPU one fresh instance of each component costs, made as
// the engine that runs it makes them: the inline engine (its own bindings, a metered template,
// the data image written into a recycled memory, zeroed) for a component it can link, on a Node
// with JSPI; else a worker (jco's glue, the core instantiations, a recycled memory). Enoki makes
// instances ahead of requests, but under load they compete for the same cores. Run as a child
// process; prints JSON on its last line. Import only its types: importing the module runs it.
//
//   node dist/bench/suite/peers-costs.js component.wasm…

import path from 'node:path';
import fs from 'node:fs/promises';
import { ArtifactStore } from '../../runtime/functions/artifact-store.js';
import { Transpiler } from '../../runtime/functions/transpiler.js';
import { CodeCache } from '../../runtime/exec/worker/code-cache.js';
import { createWasiHost } from '../../runtime/exec/worker/wasi.js';
import { createHttpTypes } from '../../runtime/exec/worker/worlds/http-types.js';
import { keyvalueImports } from '../../runtime/exec/worker/worlds/keyvalue-imports.js';
import { MemoryRecycler } from '../../runtime/exec/worker/worlds/memory-recycler.js';
import pino from 'pino';
import { hasJspi } from '../../runtime/exec/inline/jspi.js';
import { InlineCode } from '../../runtime/exec/inline/inline-code.js';
import { GuestInstance } from '../../runtime/exec/inline/linker.js';
import { TemplateStore } from '../../runtime/exec/inline/templates.js';
import { MemoryShelf } from '../../runtime/exec/wasm/memory-shelf.js';
import { summarize } from '../stats.js';
import { ROOT, sequential, startBenchNode, tempDir } from './harness.js';
import { PEER_COMPONENTS } from './peers.js';

type Instantiate = (get: (name: string) => WebAssembly.Module, imports: object, core: (m: WebAssembly.Module, i: WebAssembly.Imports) => WebAssembly.Instance) => Promise<unknown>;

const INSTANCES = 40;

/** CPU of `one()` per call, p50 over INSTANCES after a few to warm up. */
async function cpuPerCall(one: () => unknown): Promise<number> {
  for (let i = 0; i < 5; i++) await one();
  const samples: number[] = [];
  for (let i = 0; i < INSTANCES; i++) {
    const before = process.cpuUsage();
    await one();
    const used = process.cpuUsage(before);
    samples.push((used.user + used.system) / 1000);
  }
  return summarize(samples).p50;
}

async function instantiateCpuMs(file: string, dir: string): Promise<{ engine: 'inline' | 'worker'; ms: number }> {
  const bytes = await fs.readFile(file);
  const artifacts = new ArtifactStore(path.join(dir, 'components'));
  const meta = await artifacts.put(bytes, await new Transpiler(path.join(ROOT, 'wit')).transpile(bytes));
  const code = new InlineCode((digest) => artifacts.dir(digest), new TemplateStore(path.join(dir, 'templates'), true, pino({ level: 'silent' })));
  if (hasJspi && (await code.reason(meta)) === undefined) {
    const linkable = await code.load(meta);
    const shelf = new MemoryShelf(2);
    const one = () => {
      const instance = new GuestInstance(linkable, { memoryLimitPages: 2048, env: [], sliceMs: 5, memories: shelf });
      // As the instance pool does once the instance has answered.
      for (const memory of instance.memories) shelf.give(memory);
    };
    return { engine: 'inline', ms: await cpuPerCall(one) };
  }
  const spec = await new CodeCache(artifacts).load(meta, 128 * 2 ** 20);
  const wasi = await createWasiHost(() => undefined, () => []);
  const http = createHttpTypes(wasi.io, wasi.sync, () => ({ fetch: () => undefined, maxBodyBytes: 0, memoryLimitBytes: 128 * 2 ** 20 }));
  const imports = { ...wasi.imports, ...keyvalueImports(() => undefined), 'wasi:http/types': http.types, 'wasi:http/outgoing-handler': http.outgoingHandler };
  const { instantiate } = (await import(spec.glueUrl)) as { instantiate: Instantiate };
  const get = (name: string) => spec.modules[name];
  const recycler = new MemoryRecycler(2048, 2);
  const one = async () => {
    const memories: WebAssembly.Memory[] = [];
    await instantiate(get, imports, (m, i) => {
      const recycled = recycler.importsFor(m);
      if (recycled) memories.push(recycled.memory);
      return new WebAssembly.Instance(m, recycled ? { ...i, ...recycled.imports } : i);
    });
    // As the worker does once the instance has answered.
    for (const memory of memories) recycler.give(memory);
  };
  return { engine: 'worker', ms: await cpuPerCall(one) };
}

async function main(): Promise<void> {
  const files = process.argv.slice(2);
  const dir = await tempDir('peers-costs');
  try {
    const node = await startBenchNode(path.join(dir, 'node'));
    let bareRouteP50: number;
    try {
      bareRouteP50 = (await sequential([{ label: 'bare', client: node.client, route: '/healthz' }], 500))['bare'].p50;
    } finally {
      await node.stop();
    }
    const labels = Object.fromEntries(PEER_COMPONENTS.map((c) => [c.file, c.label]));
    const instantiate: Record<string, number> = {};
    const engines: Record<string, 'inline' | 'worker'> = {};
    for (const file of files) {
      const label = labels[path.basename(file)] ?? path.basename(file);
      const { engine, ms } = await instantiateCpuMs(file, dir);
      instantiate[label] = Number(ms.toFixed(2));
      engines[label] = engine;
    }
    process.stdout.write(`${JSON.stringify({ bareRouteP50, instantiateCpuMs: instantiate, engines })}\n`);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
