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

/** (module (global i32 (i32.add (i32.const 1) (i32.const 2)))): an extended constant expression. */
export const EXTENDED_CONST_PROBE = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 6, 9, 1, 0x7f, 0, 0x41, 1, 0x41, 2, 0x6a, 0x0b]);

export function applyWasmFlags(): void {
  if (applied) return;
  applied = true;
  v8.setFlagsFromString('--wasm-lazy-validation');
  // componentize-py's CPython initialises globals with extended constant expressions: V8 accepts
  // them by default from Node 22 on; Node 20's V8 only with this flag (which Node 24 no longer
  // knows, so it is set only where the probe fails).
  if (!WebAssembly.validate(EXTENDED_CONST_PROBE)) v8.setFlagsFromString('--experimental-wasm-extended-const');
}
