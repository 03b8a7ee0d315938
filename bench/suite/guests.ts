// Builds the suite's own guests into bench/build/ (gitignored) with the project's build library,
// skipping those whose sources have not changed:
//   - bench/guests/kv.js, the KV scenario's guest;
//   - TINY_COUNT distinct tiny WAT components: functions/hello/hello.wat, each with one extra data
//     segment naming its variant, so each is its own component (own digest, own compiled module)
//     while behaving exactly like hello;
//   - JS_COUNT distinct JS components: bench/guests/variant.js with its VARIANT constant set to
//     0, 1, …, each built by componentize-js, so they share the JS engine and differ in their
//     source and data image, as distinct JS functions of users do.
// A JS build takes 10–30 s and ~800 MB on 2 cores, so the first run builds two at a time and
// later runs reuse them. Run as a child process by the suite; prints the built files as JSON on
// its last line. Import only its types: importing the module runs it.
//
//   node dist/bench/suite/guests.js

import fs from 'node:fs/promises';
import path from 'node:path';
import { buildGuest } from '../../runtime/build/index.js';
import { BENCH_BUILD, ROOT } from './harness.js';

const TINY_COUNT = 10;
const JS_COUNT = 20;
const JS_BUILDS_AT_ONCE = 2;

export interface BenchGuests {
  kv: string;
  tiny: string[];
  /** Distinct JS functions; variant i answers "variant i: …". */
  js: string[];
}

const WIT_DIR = path.join(ROOT, 'wit');
const MEMORY_LINE = '(memory (export "memory") 1)';
const VARIANT_LINE = 'const VARIANT = 0;';

/** Writes `text` to `file` unless it already holds it (a rewrite would not change the build stamp, but keeps mtimes quiet). */
async function writeSource(file: string, text: string): Promise<void> {
  const current = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (current !== text) await fs.writeFile(file, text);
}

async function tinyGuests(sources: string): Promise<string[]> {
  const hello = await fs.readFile(path.join(ROOT, 'functions', 'hello', 'hello.wat'), 'utf8');
  if (!hello.includes(MEMORY_LINE)) throw new Error(`functions/hello/hello.wat no longer declares ${MEMORY_LINE}`);
  const tiny: string[] = [];
  for (let i = 0; i < TINY_COUNT; i++) {
    const source = path.join(sources, `tiny-${i}.wat`);
    // Offset 900 is in hello's static area (below its heap at 1024) and unused by it.
    await writeSource(source, hello.replace(MEMORY_LINE, `${MEMORY_LINE}\n  (data (i32.const 900) "bench variant ${i}")`));
    const out = path.join(BENCH_BUILD, `tiny-${i}.wasm`);
    await buildGuest({ source, out, witDir: WIT_DIR });
    tiny.push(out);
  }
  return tiny;
}

async function jsGuests(sources: string): Promise<string[]> {
  const template = await fs.readFile(path.join(ROOT, 'bench', 'guests', 'variant.js'), 'utf8');
  if (!template.includes(VARIANT_LINE)) throw new Error(`bench/guests/variant.js no longer declares ${VARIANT_LINE}`);
  const outs = Array.from({ length: JS_COUNT }, (_, i) => path.join(BENCH_BUILD, `variant-${i}.wasm`));
  let next = 0;
  let built = 0;
  const started = performance.now();
  const builder = async () => {
    for (let i = next++; i < JS_COUNT; i = next++) {
      const source = path.join(sources, `variant-${i}.js`);
      await writeSource(source, template.replace(VARIANT_LINE, `const VARIANT = ${i};`));
      const result = await buildGuest({
        source,
        out: outs[i],
        witDir: WIT_DIR,
        onBuild: () => process.stderr.write(`building JS variant ${i} of ${JS_COUNT} (once per checkout)…\n`),
      });
      if (!result.cached) built++;
    }
  };
  await Promise.all(Array.from({ length: JS_BUILDS_AT_ONCE }, builder));
  if (built > 0) process.stderr.write(`${built} JS variants built in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  return outs;
}

async function main(): Promise<void> {
  const sources = path.join(BENCH_BUILD, 'src');
  await fs.mkdir(sources, { recursive: true });
  const kv = path.join(BENCH_BUILD, 'kv.wasm');
  const started = performance.now();
  const built = await buildGuest({
    source: path.join(ROOT, 'bench', 'guests', 'kv.js'),
    out: kv,
    witDir: WIT_DIR,
    onBuild: () => process.stderr.write('building bench/guests/kv.js (JS, ~10 s)…\n'),
  });
  if (!built.cached) process.stderr.write(`kv.js built in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  const tiny = await tinyGuests(sources);
  const js = await jsGuests(sources);
  process.stdout.write(JSON.stringify({ kv, tiny, js } satisfies BenchGuests) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
