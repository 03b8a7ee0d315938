// Linear memories of finished wasi:http instances, zeroed and handed to the next instance of the
// same code, on both engines (inline/instance-pool.ts, worker/worlds/memory-recycler.ts). A
// wasi:http guest gets a fresh instance per request, and a new memory costs a mapping, a page
// fault on every page its data image fills and, in V8, garbage collections driven by external
// memory; a zeroed one is what a fresh memory is (the image is copied into it as into a new one).
// Only a memory that did not grow is kept: a new instance must see the size a fresh one has.

import { WASM_PAGE } from '../worker/memory-limit.js';

export class MemoryShelf {
  readonly #free = new Map<string, WebAssembly.Memory[]>();
  readonly #made = new WeakMap<WebAssembly.Memory, { key: string; bytes: number }>();

  /** `keep`: how many zeroed memories of each shape to hold. */
  constructor(private readonly keep: number) {}

  /** A zeroed memory of these limits: one given back, or a new one. */
  take(initial: number, maximum: number): WebAssembly.Memory {
    const key = `${initial}/${maximum}`;
    const memory = this.#free.get(key)?.pop() ?? new WebAssembly.Memory({ initial, maximum });
    this.#made.set(memory, { key, bytes: initial * WASM_PAGE });
    return memory;
  }

  /**
   * Takes back the memory of an instance whose guest code will never run again: it returned or
   * trapped, so nothing of it is suspended, waiting to write into this memory when it resumes.
   */
  give(memory: WebAssembly.Memory): void {
    const made = this.#made.get(memory);
    // Once only: a memory on the shelf twice would go to two instances.
    this.#made.delete(memory);
    if (!made || memory.buffer.byteLength !== made.bytes) return;
    const free = this.#free.get(made.key) ?? [];
    if (free.length >= this.keep) return;
    new Uint8Array(memory.buffer).fill(0);
    free.push(memory);
    this.#free.set(made.key, free);
  }

  /** Lets go of every memory on the shelf. */
  clear(): void {
    this.#free.clear();
  }

  /** Bytes held on the shelf. */
  get bytes(): number {
    let total = 0;
    for (const list of this.#free.values()) for (const m of list) total += m.buffer.byteLength;
    return total;
  }
}
