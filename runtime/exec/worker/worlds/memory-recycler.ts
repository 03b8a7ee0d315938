// The memory a worker's wasi:http instance imports when its code asks for a recycled one (see
// functions/recycled-memory.ts for why, and for the import): taken from a shelf of zeroed
// memories of finished instances (wasm/memory-shelf.ts).

import { parseRecycledMemoryField, RECYCLED_MEMORY_MODULE } from '../../../functions/recycled-memory.js';
import { MemoryShelf } from '../../wasm/memory-shelf.js';

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
  readonly #shelf: MemoryShelf;

  /** `limitPages`: the function's memory limit; `keep`: how many zeroed memories to hold. */
  constructor(
    private readonly limitPages: number,
    keep: number,
  ) {
    this.#shelf = new MemoryShelf(keep);
  }

  /** The imports a module needs besides the glue's: a memory, when it asks for a recycled one. */
  importsFor(module: WebAssembly.Module): { imports: WebAssembly.Imports; memory: WebAssembly.Memory } | undefined {
    const wanted = recycledImport(module);
    if (!wanted) return undefined;
    const max = Math.min(wanted.max ?? this.limitPages, this.limitPages);
    if (wanted.min > max) throw new Error(`the module needs ${wanted.min} pages of memory at start, above the limit of ${max}`);
    const memory = this.#shelf.take(wanted.min, max);
    return { imports: { [RECYCLED_MEMORY_MODULE]: { [wanted.field]: memory } }, memory };
  }

  /** Takes back the memory of an instance that will never run again. */
  give(memory: WebAssembly.Memory): void {
    this.#shelf.give(memory);
  }
}
