// What this process's WebAssembly engine accepts beyond what every supported Node has.
//
// componentize-py's CPython is a set of position-independent libraries whose globals are
// initialised with extended constant expressions (`global.get $__memory_base; i32.const N;
// i32.add`). The node's V8 settings (exec/wasm-flags.ts) turn them on where the Node needs a flag.

import { applyWasmFlags, EXTENDED_CONST_PROBE } from '../exec/wasm-flags.js';

/** True when a node in this process can load Python guests (the node's own V8 flags applied). */
export function supportsPythonGuests(): boolean {
  applyWasmFlags();
  return WebAssembly.validate(EXTENDED_CONST_PROBE);
}

/** The V8 flag that makes Node 20 accept Python guests, for messages and child processes. */
export const EXTENDED_CONST_FLAG = '--experimental-wasm-extended-const';
