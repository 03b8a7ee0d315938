// Deploy-time rewrite for components that get a fresh instance per request (the wasi:http world):
// the core module's own linear memory becomes an import, so that a worker can hand each new
// instance a memory of an earlier one, zeroed, instead of a new one. A new memory costs a
// mapping, page faults on the engine's snapshot and, in V8, garbage collections driven by
// external memory; a zeroed one is what a fresh memory is (active data segments are applied to
// it at instantiation as to a new one). For StarlingMonkey that is ~6 ms of CPU per instance
// down to ~2 ms. The import names the memory's limits, which compiled modules do not tell.

import { concat, nameBytes, Reader, section, sections, u32Leb } from '../exec/wasm/binary.js';

export const RECYCLED_MEMORY_MODULE = 'enoki:recycled';

const IMPORT = 2;
const MEMORY = 5;
const KIND_MEMORY = 0x02;

/** `memory/<min>` or `memory/<min>/<max>`, in pages. */
export function recycledMemoryField(min: number, max?: number): string {
  return max === undefined ? `memory/${min}` : `memory/${min}/${max}`;
}

export function parseRecycledMemoryField(field: string): { min: number; max?: number } | undefined {
  const m = /^memory\/(\d+)(?:\/(\d+))?$/.exec(field);
  return m ? { min: Number(m[1]), ...(m[2] !== undefined && { max: Number(m[2]) }) } : undefined;
}

/** Skips one import's description; returns whether it imports a memory. */
function skipImportDesc(r: Reader): boolean {
  const kind = r.u8();
  if (kind === 0x00) r.u32();
  else if (kind === 0x01) {
    r.u8();
    if (r.u8() & 0x01) r.u32();
    r.u32();
  } else if (kind === KIND_MEMORY) {
    if (r.u8() & 0x01) r.u32();
    r.u32();
  } else if (kind === 0x03) {
    r.u8();
    r.u8();
  } else if (kind === 0x04) {
    r.u8();
    r.u32();
  } else throw new Error(`unknown import kind ${kind}`);
  return kind === KIND_MEMORY;
}

/**
 * The module with its one defined memory turned into an import of RECYCLED_MEMORY_MODULE, or
 * undefined when it has none, several, an imported one already, or a shared or 64-bit one.
 */
export function importDefinedMemory(bytes: Uint8Array): Uint8Array | undefined {
  const all = sections(bytes);
  const memory = all.find((s) => s.id === MEMORY);
  if (!memory) return undefined;
  const m = new Reader(bytes, memory.start, memory.end);
  if (m.u32() !== 1) return undefined;
  const flags = m.u8();
  if (flags & ~0x01) return undefined;
  const min = m.u32();
  const max = flags & 0x01 ? m.u32() : undefined;
  const imports = all.find((s) => s.id === IMPORT);
  let count = 0;
  let entries: Uint8Array = new Uint8Array(0);
  if (imports) {
    const r = new Reader(bytes, imports.start, imports.end);
    count = r.u32();
    const first = r.pos;
    for (let i = 0; i < count; i++) {
      r.skip(r.u32());
      r.skip(r.u32());
      if (skipImportDesc(r)) return undefined;
    }
    entries = bytes.subarray(first, imports.end);
  }
  const limits = Uint8Array.of(flags, ...u32Leb(min), ...(max === undefined ? [] : u32Leb(max)));
  const entry = concat([nameBytes(RECYCLED_MEMORY_MODULE), nameBytes(recycledMemoryField(min, max)), Uint8Array.of(KIND_MEMORY), limits]);
  const importSection = section(IMPORT, concat([Uint8Array.from(u32Leb(count + 1)), entries, entry]));
  const out: Uint8Array[] = [bytes.subarray(0, 8)];
  let placed = false;
  for (const s of all) {
    // The import section goes after the type section (id 1) and before every other known one.
    if (!placed && s.id !== 0 && s.id !== 1 && s.id !== IMPORT) {
      out.push(importSection);
      placed = true;
    }
    if (s.id === IMPORT || s.id === MEMORY) continue;
    out.push(section(s.id, bytes.subarray(s.start, s.end)));
  }
  if (!placed) out.push(importSection);
  return concat(out);
}
