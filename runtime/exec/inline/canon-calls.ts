// Calls across the boundary in the canonical ABI: a host function lowered into a core import
// the guest calls, and a guest export lifted into a function the host calls.

import { layout, type ValType } from './canon.js';
import type { GuestMemory } from './guest-memory.js';

export const MAX_FLAT_PARAMS = 16;
export const MAX_FLAT_RESULTS = 1;

export interface FuncType {
  params: ValType[];
  result?: ValType;
}

/**
 * A core function for a lowered import: lifts the guest's flat arguments, calls `impl`, and
 * lowers its result (into the return pointer, the last argument, when it does not fit one core
 * value). `impl` may answer with a promise; the returned function then answers with a promise
 * that settles once the result is in the guest's memory (the caller suspends the guest on it
 * through JSPI).
 */
export function lowerImport(type: FuncType, mem: GuestMemory, impl: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  const params = type.params.map(layout);
  const flatParams = params.reduce((n, p) => n + p.flat.length, 0);
  if (flatParams > MAX_FLAT_PARAMS) throw new Error('imports with more than 16 flat parameters are not bound');
  const result = type.result && layout(type.result);
  const viaPointer = result !== undefined && result.flat.length !== 1;
  const finish = (value: unknown, retptr: number): unknown => {
    if (!result) return undefined;
    if (viaPointer) {
      result.store(mem, retptr, value);
      return undefined;
    }
    const out: unknown[] = [];
    result.lower(mem, value, out);
    return out[0];
  };
  return (...args: unknown[]) => {
    const values = new Array(params.length);
    let i = 0;
    for (let p = 0; p < params.length; p++) [values[p], i] = params[p].lift(mem, args, i);
    const retptr = viaPointer ? (args[i] as number) >>> 0 : 0;
    const value = impl(...values);
    if (value instanceof Promise) return value.then((v) => finish(v, retptr));
    return finish(value, retptr);
  };
}

/** Calls a lifted export: lowers the arguments, runs `call` on the flat values, lifts the result. */
export function liftExport(type: FuncType, mem: GuestMemory) {
  const params = type.params.map(layout);
  const flatParams = params.reduce((n, p) => n + p.flat.length, 0);
  if (flatParams > MAX_FLAT_PARAMS) throw new Error('exports with more than 16 flat parameters are not bound');
  const result = type.result && layout(type.result);
  return {
    lowerArgs(args: unknown[]): unknown[] {
      const flat: unknown[] = [];
      for (let p = 0; p < params.length; p++) params[p].lower(mem, args[p], flat);
      return flat;
    },
    /** The lifted result of the core function's return value. */
    liftResult(ret: unknown): unknown {
      if (!result) return undefined;
      if (result.flat.length === 1) return result.lift(mem, [ret], 0)[0];
      return result.load(mem, (ret as number) >>> 0);
    },
  };
}
