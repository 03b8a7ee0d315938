// Baseline machine code for what the warm-up runs. V8 runs a function it meets for the first time
// in its bytecode interpreter, and compiles it to machine code (Sparkplug, its baseline tier) only
// once it has run a while: the few calls a warm-up makes leave the invocation path interpreted,
// and a node's first calls pay for that all along the path. While the warm-up runs, V8 is told to
// compile every function it compiles then straight to baseline code; the setting is put back
// after, so that code the node runs later (and all it loaded before) is compiled as usual. What
// it costs: the baseline code of the functions the warm-up reaches, a few hundred KiB.

import v8 from 'node:v8';

const FLAG = 'always-sparkplug';

/** Runs `work` with V8 compiling new functions straight to baseline code, then restores the setting. */
export async function withBaselineCode<T>(work: () => Promise<T>): Promise<T> {
  // Started with the flag: it stays on, and is not ours to turn off.
  if (process.execArgv.includes(`--${FLAG}`)) return work();
  v8.setFlagsFromString(`--${FLAG}`);
  try {
    return await work();
  } finally {
    v8.setFlagsFromString(`--no-${FLAG}`);
  }
}
