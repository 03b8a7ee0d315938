// V8 settings for guest code, applied once per process before any module is compiled.
//
// A JS guest's core module is ~12 MB of SpiderMonkey. V8 already compiles wasm functions lazily
// (on first call), but by default it still validates every function body up front, which is most
// of the ~150 ms a first compile takes on a small ARM or x86 core. With lazy validation a body is
// validated when it is first compiled, so compiling the module takes ~20-30 ms. Deploy runs
// WebAssembly.validate on every core module, which validates fully regardless of this flag, so
// a malformed body is still rejected before it is activated.

import v8 from 'node:v8';

let applied = false;

export function applyWasmFlags(): void {
  if (applied) return;
  applied = true;
  v8.setFlagsFromString('--wasm-lazy-validation');
}
