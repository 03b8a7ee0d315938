// The cold-start baseline of per-request isolation (what `jco serve` does): a fresh component
// instance for every request, instantiated from the already compiled core modules, then one
// call. In-process, with jco's transpiled output and the node's own WASI host, as the node's
// workers use them; next to it, calls to one instance kept warm. Run as a child process by the
// suite; prints JSON on its last line.
//
//   node dist/bench/suite/naive-instance.js <component.wasm> <calls>

import fs from 'node:fs/promises';
import path from 'node:path';
import { CodeCache } from '../../runtime/exec/worker/code-cache.js';
import { createWasiHost } from '../../runtime/exec/worker/wasi.js';
import { ArtifactStore } from '../../runtime/functions/artifact-store.js';
import { Transpiler } from '../../runtime/functions/transpiler.js';
import { WIT_DIR } from '../../runtime/node.js';
import { summarize, type Summary } from '../stats.js';
import { tempDir } from './harness.js';

const noCalls = (): never => {
  throw { payload: { tag: 'unavailable', val: 'calls between functions are not served here' } };
};

export interface NaiveResult {
  /** Compiling the core modules, once (ms). */
  compileMs: number;
  /** Instantiate + call, per request (ms). */
  freshInstance: Summary;
  /** A call to one warm instance (ms). */
  warmInstance: Summary;
}

type Handler = { handle(request: unknown): unknown };
type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, unknown>,
  instantiateCore: (module: WebAssembly.Module, imports: WebAssembly.Imports) => Promise<WebAssembly.Instance>,
) => Promise<Record<string, Handler>>;

async function main(): Promise<void> {
  const [file, callsArg] = process.argv.slice(2);
  const calls = Number(callsArg ?? 100);
  const dir = await tempDir('naive');
  try {
    const bytes = await fs.readFile(file);
    const artifacts = new ArtifactStore(path.join(dir, 'components'));
    const meta = await artifacts.put(bytes, await new Transpiler(WIT_DIR).transpile(bytes));
    let t = performance.now();
    const spec = await new CodeCache(artifacts).load(meta, 128 * 2 ** 20);
    const compileMs = performance.now() - t;
    const { instantiate } = (await import(spec.glueUrl)) as { instantiate: Instantiate };

    const kv = new Map<string, string>();
    const wasi = await createWasiHost(() => undefined, () => []);
    const imports = {
      // A Map for the guests' state: this baseline is about instances, not storage.
      'enoki:faas/kv': {
        read: (id: string) => (kv.has(id) ? [{ id, value: kv.get(id), version: [] }] : []),
        get: (id: string) => kv.get(id),
        getMany: (ids: string[]) => ids.map((id) => kv.get(id)),
        set: (id: string, value: string) => void kv.set(id, value),
        setMany: (entries: Array<{ id: string; value: string }>) => entries.forEach((e) => kv.set(e.id, e.value)),
        delete: (id: string) => void kv.delete(id),
        scan: (start: string, count: number) => [...kv].sort().filter(([id]) => id >= start).slice(0, count).map(([id, value]) => ({ id, value })),
        keys: (start: string, count: number) => [...kv.keys()].sort().filter((id) => id >= start).slice(0, count),
        append: (id: bigint, value: string) => (kv.set(String(id), value), String(id)),
      },
      'enoki:faas/atomics': {
        increment: (id: string, delta: bigint) => (kv.set(id, String(BigInt(kv.get(id) ?? '0') + delta)), BigInt(kv.get(id)!)),
        compareAndSwap: (id: string, expected: unknown[], value: string) => (expected.length > 0 || !kv.has(id)) && (kv.set(id, value), true),
      },
      'enoki:faas/log': { write: () => undefined },
      'enoki:faas/env': { get: () => undefined, all: () => [] },
      // JS guests import every interface of the world; these examples make no calls.
      'enoki:faas/invoke': { call: noCalls, callAsync: noCalls },
      ...wasi.imports,
    };
    const fresh = async (): Promise<Handler> => {
      const exports = await instantiate((name) => spec.modules[name], imports, (m, i) => WebAssembly.instantiate(m, i));
      return exports['enoki:faas/handler@0.1.0'];
    };
    const request = () => ({ method: 'POST', path: '/', query: '', headers: [['content-type', 'text/plain']], body: new TextEncoder().encode('hi') });

    await fresh(); // loads the glue module, so every measured call pays only instantiate + call
    const freshSamples: number[] = [];
    for (let i = 0; i < calls; i++) {
      t = performance.now();
      (await fresh()).handle(request());
      freshSamples.push(performance.now() - t);
    }
    const warm = await fresh();
    for (let i = 0; i < 200; i++) warm.handle(request());
    const warmSamples: number[] = [];
    for (let i = 0; i < Math.max(1000, calls); i++) {
      t = performance.now();
      warm.handle(request());
      warmSamples.push(performance.now() - t);
    }
    const result: NaiveResult = {
      compileMs: Math.round(compileMs * 10) / 10,
      freshInstance: summarize(freshSamples),
      warmInstance: summarize(warmSamples),
    };
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
