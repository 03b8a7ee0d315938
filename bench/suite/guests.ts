// Builds the suite's own guests into bench/build/ (gitignored) with the project's build library,
// skipping those whose sources have not changed: bench/guests/kv.js, and TINY_COUNT distinct tiny
// WAT components for the memory scenario: functions/hello/hello.wat, each with one extra data
// segment naming its variant, so each is its own component (own digest, own compiled module)
// while behaving exactly like hello. Run as a child process by the suite (a JS build holds
// ~100 MB and a core for seconds); prints the built files as JSON on its last line. Import only
// its types: importing the module runs it.
//
//   node dist/bench/suite/guests.js

import fs from 'node:fs/promises';
import path from 'node:path';
import { buildGuest } from '../../runtime/build/index.js';
import { BENCH_BUILD, ROOT } from './harness.js';

const TINY_COUNT = 10;

export interface BenchGuests {
  kv: string;
  tiny: string[];
}

const WIT_DIR = path.join(ROOT, 'wit');
const MEMORY_LINE = '(memory (export "memory") 1)';

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

  const hello = await fs.readFile(path.join(ROOT, 'functions', 'hello', 'hello.wat'), 'utf8');
  if (!hello.includes(MEMORY_LINE)) throw new Error(`functions/hello/hello.wat no longer declares ${MEMORY_LINE}`);
  const tiny: string[] = [];
  for (let i = 0; i < TINY_COUNT; i++) {
    const source = path.join(sources, `tiny-${i}.wat`);
    // Offset 900 is in hello's static area (below its heap at 1024) and unused by it.
    const variant = hello.replace(MEMORY_LINE, `${MEMORY_LINE}\n  (data (i32.const 900) "bench variant ${i}")`);
    const current = await fs.readFile(source, 'utf8').catch(() => undefined);
    if (current !== variant) await fs.writeFile(source, variant);
    const out = path.join(BENCH_BUILD, `tiny-${i}.wasm`);
    await buildGuest({ source, out, witDir: WIT_DIR });
    tiny.push(out);
  }
  process.stdout.write(JSON.stringify({ kv, tiny } satisfies BenchGuests) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
