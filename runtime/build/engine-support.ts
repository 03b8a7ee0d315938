// What this process's WebAssembly engine accepts beyond what every supported Node has.
//
// componentize-py's CPython is a set of position-independent libraries whose globals are
// initialised with extended constant expressions (`global.get $__memory_base; i32.const N;
// i32.add`). V8 accepts those by default from Node 22 on; Node 20's V8 only behind
// --experimental-wasm-extended-const, so a node on Node 20 refuses Python guests at deploy
// (ERR_INVALID_COMPONENT) unless it runs with that flag.

import { applyWasmFlags } from '../exec/wasm-flags.js';

/** (module (global i32 (i32.add (i32.const 1) (i32.const 2)))) */
const EXTENDED_CONST_PROBE = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 6, 9, 1, 0x7f, 0, 0x41, 1, 0x41, 2, 0x6a, 0x0b]);

/** True when a node in this process can load Python guests (the node's own V8 flags applied). */
export function supportsPythonGuests(): boolean {
  applyWasmFlags();
  return WebAssembly.validate(EXTENDED_CONST_PROBE);
}

/** The V8 flag that makes Node 20 accept Python guests, for messages and child processes. */
export const EXTENDED_CONST_FLAG = '--experimental-wasm-extended-const';
