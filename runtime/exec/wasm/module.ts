// Section-level rewriting of a core module, so that it can run metered on the main thread and be
// shared between functions built from the same engine:
//   - its memory becomes an import (the host creates it with the function's own size and the
//     limit of the function's memory cap), and its active data segments become an image the host
//     writes into that memory after instantiation: modules that differ only in their data then
//     compile to one module;
//   - every table it defines gets a maximum (TABLE_ELEMENTS in all), which the memory cap
//     cannot give it;
//   - function imports `enoki:meter check` and `enoki:meter suspend` and a fuel global are added
//     and a check is injected at loop tops and chosen function entries (code.ts, call-graph.ts),
//     so a loop or a recursion gives control back to the host;
//   - chosen i64.const sites become per-instance globals (see code.ts).
// analyzeModule() reads what a module needs without rewriting its code; template.ts builds the
// shared template.

import { createHash } from 'node:crypto';
import { ByteWriter, concat, Reader, sections, u32Leb, WasmFormatError, type Section } from './binary.js';
import { expressionRefs, rewriteExpression, scanCode } from './code.js';

export const METER_MODULE = 'enoki:meter';
export const METER_CHECK = 'check';
export const METER_SUSPEND = 'suspend';
/** Function imports the metering adds. */
export const METER_IMPORTS = 2;
export const FUEL_EXPORT = 'enoki:fuel';
/**
 * The module's start function, exported instead of run by the instantiation: the host runs it once
 * the instance's data is in its memory (the template's data is written after instantiation) and
 * under a bound on its time (linker.ts), as the module's own start would have run.
 */
export const START_EXPORT = 'enoki:start';
export const MEMORY_MODULE = 'enoki:memory';
export const MEMORY_IMPORT = 'memory';
export const paramExport = (k: number) => `enoki:param:${k}`;

/**
 * Table elements all the tables of one instance may hold, at their start and after any
 * table.grow: a table is host memory the memory cap does not see (8 bytes an element), so the
 * template caps it instead, at 8 MiB an instance. Compilers size tables for a module's functions
 * (StarlingMonkey's holds about 10,000) and seldom grow them.
 */
export const TABLE_ELEMENTS = 1 << 20;

export const SECTION = { custom: 0, type: 1, import: 2, func: 3, table: 4, memory: 5, global: 6, export: 7, start: 8, element: 9, code: 10, data: 11, dataCount: 12, tag: 13 } as const;

export interface MemoryShape {
  /** Pages at start. */
  initial: number;
  /** Declared maximum in pages, if any. */
  maximum?: number;
}

export interface DataImage {
  offset: number;
  bytes: Uint8Array;
}

export interface ModuleAnalysis {
  /**
   * Identifies the module's code and shape apart from its data and its i64 constants: two modules
   * with the same key differ only there and can share one template.
   */
  looseKey: string;
  /** Every i64.const value of the code section, in order. */
  i64Consts: BigInt64Array;
  /** The memory the module defines; undefined when it defines none (or imports one). */
  memory?: MemoryShape;
  /** Why the module cannot run as a template; the caller runs it another way. */
  unsupported?: string;
  /** The template leaves the data section out (see dataDroppable). */
  dropData?: boolean;
}

export interface Limits {
  flags: number;
  min: number;
  max?: number;
}

export function readLimits(r: Reader): Limits {
  const flags = r.u8();
  const min = r.u32();
  const max = flags & 0x01 ? r.u32() : undefined;
  return { flags, min, max };
}

/** Value type bytes that start a reference type: funcref, externref, (ref null? ht). */
export const REF_TYPES = new Set([0x70, 0x6f, 0x63, 0x64]);

export function skipValType(r: Reader): void {
  const b = r.u8();
  if (b === 0x63 || b === 0x64) r.s33();
}

/** The parts of the module the transforms need, read once. */
export class ModuleReader {
  readonly sections: Section[];
  importedFuncs = 0;
  importedGlobals = 0;
  importedMemories = 0;
  definedGlobals = 0;
  definedFuncs = 0;
  types = 0;
  /** Indices of a type `[] -> [i32]` and of a type `[] -> []`, if the module has them. */
  checkType?: number;
  voidType?: number;
  memory?: Limits;
  definedMemories = 0;
  gcTypes = false;
  /** The limits of the tables the module defines, in order. */
  tables: Limits[] = [];
  /** Each type's encoding as a string: equal keys, equal signatures (what call_indirect compares). */
  typeKeys: string[] = [];
  /** The type index of each imported function, in order. */
  importFuncTypes: number[] = [];
  /** A table, or a global that holds a reference, comes from outside. */
  importsReferences = false;

  constructor(readonly bytes: Uint8Array) {
    if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[4] !== 1 || bytes[6] !== 0) throw new WasmFormatError('not a core module');
    this.sections = sections(bytes);
    for (const s of this.sections) {
      const r = new Reader(bytes, s.start, s.end);
      if (s.id === SECTION.type) this.#types(r);
      else if (s.id === SECTION.import) this.#imports(r);
      else if (s.id === SECTION.memory) {
        this.definedMemories = r.u32();
        if (this.definedMemories === 1) this.memory = readLimits(r);
      } else if (s.id === SECTION.global) this.definedGlobals = r.u32();
      else if (s.id === SECTION.func) this.definedFuncs = r.u32();
      else if (s.id === SECTION.table) this.#tables(r);
    }
  }

  #types(r: Reader): void {
    this.types = r.u32();
    for (let i = 0; i < this.types; i++) {
      const typeStart = r.pos;
      const form = r.u8();
      if (form !== 0x60) {
        this.gcTypes = true;
        return;
      }
      const params = r.u32();
      for (let p = 0; p < params; p++) skipValType(r);
      const start = r.pos;
      const results = r.u32();
      for (let p = 0; p < results; p++) skipValType(r);
      if (params === 0 && results === 1 && r.bytes[start + 1] === 0x7f) this.checkType ??= i;
      if (params === 0 && results === 0) this.voidType ??= i;
      this.typeKeys.push(Buffer.from(r.bytes.subarray(typeStart, r.pos)).toString('latin1'));
    }
  }

  #tables(r: Reader): void {
    for (let n = r.u32(); n > 0; n--) {
      const initialized = r.bytes[r.pos] === 0x40;
      if (initialized) r.skip(2);
      skipValType(r);
      this.tables.push(readLimits(r));
      if (initialized) expressionRefs(r);
    }
  }

  /** The maximum each defined table gets in a template: what it declares, within TABLE_ELEMENTS in all. */
  tableMaxima(): number[] {
    const initial = this.tables.reduce((n, t) => n + t.min, 0);
    const share = Math.floor((TABLE_ELEMENTS - initial) / Math.max(1, this.tables.length));
    return this.tables.map((t) => Math.min(t.max ?? Infinity, t.min + share));
  }

  #imports(r: Reader): void {
    for (let n = r.u32(); n > 0; n--) {
      r.name();
      r.name();
      const kind = r.u8();
      if (kind === 0x00) {
        this.importFuncTypes.push(r.u32());
        this.importedFuncs++;
      } else if (kind === 0x01) {
        this.importsReferences = true;
        skipValType(r);
        readLimits(r);
      } else if (kind === 0x02) {
        readLimits(r);
        this.importedMemories++;
      } else if (kind === 0x03) {
        if (REF_TYPES.has(r.bytes[r.pos])) this.importsReferences = true;
        skipValType(r);
        r.u8();
        this.importedGlobals++;
      } else if (kind === 0x04) {
        r.u8();
        r.u32();
      } else throw new WasmFormatError(`unknown import kind ${kind}`, r.pos);
    }
  }

  get(id: number): Section | undefined {
    return this.sections.find((s) => s.id === id);
  }

  contents(s: Section): Uint8Array {
    return this.bytes.subarray(s.start, s.end);
  }

  /** Why this module cannot be a template. */
  unsupported(): string | undefined {
    if (this.gcTypes) return 'GC types';
    if (this.importedMemories > 0 && this.definedMemories > 0) return 'an imported and a defined memory';
    if (this.importedMemories > 1) return 'several memories';
    if (this.definedMemories > 1) return 'several memories';
    if (this.memory && this.memory.flags & ~0x01) return 'a shared or 64-bit memory';
    if (this.tables.some((t) => t.flags & ~0x01)) return 'a 64-bit table';
    if (this.tables.reduce((n, t) => n + t.min, 0) > TABLE_ELEMENTS) return `tables of more than ${TABLE_ELEMENTS} elements`;
    return undefined;
  }
}

/**
 * The table section with each table's maximum set by tableMaxima(); function indices in table
 * initializers renumbered as `shiftFuncsFrom` says (a template adds function imports).
 */
export function cappedTables(m: ModuleReader, s: Section, shiftFuncsFrom?: number, shiftBy?: number): Uint8Array {
  const initial = m.tables.reduce((n, t) => n + t.min, 0);
  if (initial > TABLE_ELEMENTS) throw new WasmFormatError(`the module's tables hold ${initial} elements at start, above the limit of ${TABLE_ELEMENTS}`);
  const maxima = m.tableMaxima();
  const r = new Reader(m.bytes, s.start, s.end);
  const count = r.u32();
  const parts: Uint8Array[] = [Uint8Array.from(u32Leb(count))];
  for (let t = 0; t < count; t++) {
    const initialized = r.bytes[r.pos] === 0x40;
    const start = r.pos;
    if (initialized) r.skip(2);
    skipValType(r);
    parts.push(r.bytes.subarray(start, r.pos));
    const limits = readLimits(r);
    if (limits.flags & ~0x01) throw new WasmFormatError('a 64-bit table');
    parts.push(Uint8Array.of(0x01, ...u32Leb(limits.min), ...u32Leb(maxima[t])));
    if (initialized) {
      const { out, end } = rewriteExpression(r.bytes.subarray(r.pos, r.end), shiftFuncsFrom, shiftBy);
      parts.push(out);
      r.pos += end;
    }
  }
  return concat(parts);
}

/** The active data segments of a module, as an image (offsets must be constants). */
export function dataImage(bytes: Uint8Array): DataImage[] {
  const m = new ModuleReader(bytes);
  const data = m.get(SECTION.data);
  // Without a memory of its own, the module keeps its data: instantiating it writes the segments.
  if (!data || !m.memory) return [];
  const image: DataImage[] = [];
  const r = new Reader(bytes, data.start, data.end);
  for (let n = r.u32(); n > 0; n--) {
    const flags = r.u32();
    if (flags === 1) {
      r.skip(r.u32());
      continue;
    }
    if (flags === 2 && r.u32() !== 0) throw new WasmFormatError('a data segment for a second memory', r.pos);
    if (r.u8() !== 0x41) throw new WasmFormatError('a data segment offset that is not an i32 constant', r.pos);
    const offset = r.s64();
    if (r.u8() !== 0x0b) throw new WasmFormatError('a data segment offset that is not an i32 constant', r.pos);
    const length = r.u32();
    image.push({ offset: Number(BigInt.asUintN(32, offset)), bytes: r.take(length) });
  }
  return image;
}

/** Segments at most this far apart are written as one (the zeros between them included). */
const IMAGE_MAX_GAP = 4096;

/**
 * The same image in fewer segments: neighbours at most IMAGE_MAX_GAP bytes apart become one segment
 * with the zeros between them, which a fresh memory holds anyway. Wizer's images come as
 * thousands of small segments (10,000 for StarlingMonkey's 2.8 MB): copying 22 spans into a new
 * instance's memory costs a fraction of copying 10,000 pieces. An image whose segments are not in
 * ascending order, or overlap, is returned as it is: there a later segment overwrites an earlier
 * one, and filling a gap with zeros could overwrite a segment written before.
 */
export function coalesceImage(image: DataImage[]): DataImage[] {
  for (let i = 1; i < image.length; i++) if (image[i].offset < image[i - 1].offset + image[i - 1].bytes.length) return image;
  const out: DataImage[] = [];
  for (let i = 0; i < image.length; ) {
    const start = image[i].offset;
    let j = i + 1;
    let end = start + image[i].bytes.length;
    while (j < image.length && image[j].offset - end <= IMAGE_MAX_GAP) end = image[j].offset + image[j++].bytes.length;
    if (j === i + 1) out.push(image[i]);
    else {
      const bytes = new Uint8Array(end - start);
      for (let k = i; k < j; k++) bytes.set(image[k].bytes, image[k].offset - start);
      out.push({ offset: start, bytes });
    }
    i = j;
  }
  return out;
}

/**
 * Whether the template can leave the data segments out altogether: all are active and the code
 * never names one, so neither their number nor their offsets matter once they are an image.
 */
function dataDroppable(m: ModuleReader, usesDataSegments: boolean): boolean {
  // Segments of an imported memory are not the template's to lift out: they stay as they are.
  if (usesDataSegments || !m.memory) return false;
  const data = m.get(SECTION.data);
  if (!data) return true;
  const r = new Reader(m.bytes, data.start, data.end);
  for (let n = r.u32(); n > 0; n--) {
    const flags = r.u32();
    if (flags === 1) return false;
    if (flags === 2) r.u32();
    while (r.u8() !== 0x0b) r.skipLeb();
    r.skip(r.u32());
  }
  return true;
}

/** Hash of everything that makes a template, except the data segments' bytes and i64 constants. */
function looseKeyOf(m: ModuleReader, codeLooseHash: string, droppable: boolean): string {
  const hash = createHash('sha256').update('enoki-template-v2');
  for (const s of m.sections) {
    if (s.id === SECTION.code) hash.update(`code:${codeLooseHash}`);
    else if (droppable && (s.id === SECTION.data || s.id === SECTION.dataCount)) continue;
    else if (s.id === SECTION.data) hash.update('data:').update(m.memory ? emptiedData(m, s) : m.contents(s));
    else if (s.id === SECTION.memory) hash.update('memory');
    else if (s.id === SECTION.custom) continue;
    else hash.update(`${s.id}:`).update(m.contents(s));
  }
  return hash.digest('hex');
}

/** The data section with active segments' bytes left out (each becomes an empty segment). */
export function emptiedData(m: ModuleReader, s: Section): Uint8Array {
  const out = new ByteWriter();
  const r = new Reader(m.bytes, s.start, s.end);
  const count = r.u32();
  out.u32(count);
  for (let n = 0; n < count; n++) {
    const start = r.pos;
    const flags = r.u32();
    if (flags === 1) {
      r.skip(r.u32());
      out.bytes(m.bytes.subarray(start, r.pos));
      continue;
    }
    if (flags === 2) r.u32();
    // The offset expression (i32.const N, or global.get G), then an empty segment.
    while (r.u8() !== 0x0b) r.skipLeb();
    out.bytes(m.bytes.subarray(start, r.pos));
    out.byte(0x00);
    r.skip(r.u32());
  }
  return out.result();
}

export function analyzeModule(bytes: Uint8Array): ModuleAnalysis {
  const m = new ModuleReader(bytes);
  const code = m.get(SECTION.code);
  let scan;
  try {
    scan = code ? scanCode(m.contents(code)) : { i64Consts: new BigInt64Array(0), looseHash: 'none', usesDataSegments: false };
    dataImage(bytes);
  } catch (err) {
    return { looseKey: '', i64Consts: new BigInt64Array(0), unsupported: (err as Error).message };
  }
  const unsupported = m.unsupported();
  const dropData = dataDroppable(m, scan.usesDataSegments);
  return {
    looseKey: looseKeyOf(m, scan.looseHash, dropData),
    i64Consts: scan.i64Consts,
    dropData,
    memory: m.memory && { initial: m.memory.min, maximum: m.memory.max },
    unsupported,
  };
}
