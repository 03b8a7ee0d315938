// Caps a core module's linear memory and tables by rewriting the maxima in its memory and table
// sections before compiling. Worker resourceLimits do not cover wasm memory, and a table that
// grows past them ends the whole process (V8 cannot fail that allocation gracefully); a declared
// maximum makes memory.grow and table.grow fail inside the guest instead.

import { Reader, section, u32Leb as writeU32 } from '../wasm/binary.js';
import { cappedTables, ModuleReader, SECTION } from '../wasm/module.js';

const MEMORY_SECTION = 5;

function readU32(bytes: Uint8Array, offset: number): [value: number, next: number] {
  const r = new Reader(bytes, offset);
  const value = r.u32();
  return [value, r.pos];
}
export const WASM_PAGE = 65536;

/** Returns the module with every defined 32-bit memory limited to maxPages and its tables to TABLE_ELEMENTS (imports untouched). */
export function limitMemory(module: Uint8Array, maxPages: number): Uint8Array {
  if (module[4] !== 1 || module[6] !== 0) throw new Error('not a core wasm module');
  const parts: Uint8Array[] = [module.subarray(0, 8)];
  let pos = 8;
  while (pos < module.length) {
    const id = module[pos];
    const [size, bodyStart] = readU32(module, pos + 1);
    const bodyEnd = bodyStart + size;
    if (id === SECTION.table) {
      parts.push(section(id, cappedTables(new ModuleReader(module), { id, start: bodyStart, end: bodyEnd })));
      pos = bodyEnd;
      continue;
    }
    if (id !== MEMORY_SECTION) {
      parts.push(module.subarray(pos, bodyEnd));
      pos = bodyEnd;
      continue;
    }
    const [count, first] = readU32(module, bodyStart);
    const body: number[] = writeU32(count);
    let p = first;
    for (let i = 0; i < count; i++) {
      const flags = module[p++];
      if (flags & 0x04) throw new Error('64-bit memories are not supported');
      const [min, afterMin] = readU32(module, p);
      p = afterMin;
      let max = maxPages;
      if (flags & 0x01) {
        const [declared, afterMax] = readU32(module, p);
        p = afterMax;
        max = Math.min(declared, maxPages);
      }
      if (min > max) {
        // The function's memory limit is what fails it, as on the inline engine (ERR_MEMORY_LIMIT).
        throw Object.assign(new Error(`the module needs ${min} pages of memory at start, above the limit of ${maxPages}`), { failure: 'memory' as const });
      }
      body.push((flags & 0x02) | 0x01, ...writeU32(min), ...writeU32(max));
    }
    parts.push(Uint8Array.of(MEMORY_SECTION, ...writeU32(body.length), ...body));
    pos = bodyEnd;
  }
  return Buffer.concat(parts);
}
