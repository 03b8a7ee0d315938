// Linear memories of finished wasi:http instances, zeroed and handed to the next instances of the
// same code (see functions/recycled-memory.ts for why, and for the import that asks for one).
// Only a memory that did not grow is kept: a new instance must see the size a fresh one has.

import { parseRecycledMemoryField, RECYCLED_MEMORY_MODULE } from '../../../functions/recycled-memory.js';
import { WASM_PAGE } from '../memory-limit.js';

const imported = new WeakMap<WebAssembly.Module, { field: string; min: number; max?: number } | null>();

function recycledImport(module: WebAssembly.Module): { field: string; min: number; max?: number } | undefined {
  let found = imported.get(module);
  if (found === undefined) {
    const entry = WebAssembly.Module.imports(module).find((i) => i.module === RECYCLED_MEMORY_MODULE && i.kind === 'memory');
    const limits = entry && parseRecycledMemoryField(entry.name);
    found = entry && limits ? { field: entry.name, ...limits } : null;
    imported.set(module, found);
  }
  return found ?? undefined;
}

export class MemoryRecycler {
  readonly #free: WebAssembly.Memory[] = [];
  readonly #pages = new WeakMap<WebAssembly.Memory, number>();

  /** `limitPages`: the function's memory limit; `keep`: how many zeroed memories to hold. */
  constructor(
    private readonly limitPages: number,
    private readonly keep: number,
  ) {}

  /** The imports a module needs besides the glue's: a memory, when it asks for a recycled one. */
  importsFor(module: WebAssembly.Module): { imports: WebAssembly.Imports; memory: WebAssembly.Memory } | undefined {
    const wanted = recycledImport(module);
    if (!wanted) return undefined;
    const max = Math.min(wanted.max ?? this.limitPages, this.limitPages);
    if (wanted.min > max) throw new Error(`the module needs ${wanted.min} pages of memory at start, above the limit of ${max}`);
    const memory = this.#free.pop() ?? new WebAssembly.Memory({ initial: wanted.min, maximum: max });
    this.#pages.set(memory, wanted.min);
    return { imports: { [RECYCLED_MEMORY_MODULE]: { [wanted.field]: memory } }, memory };
  }

  /** Takes back the memory of an instance that will never run again. */
  give(memory: WebAssembly.Memory): void {
    const pages = this.#pages.get(memory);
    if (pages === undefined || this.#free.length >= this.keep || memory.buffer.byteLength !== pages * WASM_PAGE) return;
    // Once only: a memory in the list twice would go to two instances.
    this.#pages.delete(memory);
    new Uint8Array(memory.buffer).fill(0);
    this.#free.push(memory);
  }
}
