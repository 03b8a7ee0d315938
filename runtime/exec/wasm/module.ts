// Section-level rewriting of a core module, so that it can run metered on the main thread and be
// shared between functions built from the same engine:
//   - its memory becomes an import (the host creates it with the function's own size and the
//     limit of the function's memory cap), and its active data segments become an image the host
//     writes into that memory after instantiation: modules that differ only in their data then
//     compile to one module;
//   - function imports `enoki:meter check` and `enoki:meter suspend` and a fuel global are added
//     and a check is injected at function entries and loop tops (code.ts), so a loop gives control
//     back to the host;
//   - chosen i64.const sites become per-instance globals (see code.ts).
// analyzeModule() reads what a module needs without rewriting its code; prepareModule() builds
// the shared template.

import { createHash } from 'node:crypto';
import { concat, nameBytes, Reader, section, sections, u32Leb, WasmFormatError, type Section } from './binary.js';
import { ByteWriter, rewriteExpression, scanCode, type CodeRewrite } from './code.js';

export const METER_MODULE = 'enoki:meter';
export const METER_CHECK = 'check';
export const METER_SUSPEND = 'suspend';
/** Function imports the metering adds. */
const METER_IMPORTS = 2;
export const FUEL_EXPORT = 'enoki:fuel';
export const MEMORY_MODULE = 'enoki:memory';
export const MEMORY_IMPORT = 'memory';
export const paramExport = (k: number) => `enoki:param:${k}`;

const SECTION = { custom: 0, type: 1, import: 2, func: 3, table: 4, memory: 5, global: 6, export: 7, start: 8, element: 9, code: 10, data: 11, dataCount: 12, tag: 13 } as const;

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

interface Limits {
  flags: number;
  min: number;
  max?: number;
}

function readLimits(r: Reader): Limits {
  const flags = r.u8();
  const min = r.u32();
  const max = flags & 0x01 ? r.u32() : undefined;
  return { flags, min, max };
}

function skipValType(r: Reader): void {
  const b = r.u8();
  if (b === 0x63 || b === 0x64) r.s33();
}

/** The parts of the module the transforms need, read once. */
class ModuleReader {
  readonly sections: Section[];
  importedFuncs = 0;
  importedGlobals = 0;
  importedMemories = 0;
  definedGlobals = 0;
  types = 0;
  /** Indices of a type `[] -> [i32]` and of a type `[] -> []`, if the module has them. */
  checkType?: number;
  voidType?: number;
  memory?: Limits;
  definedMemories = 0;
  gcTypes = false;

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
    }
  }

  #types(r: Reader): void {
    this.types = r.u32();
    for (let i = 0; i < this.types; i++) {
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
    }
  }

  #imports(r: Reader): void {
    for (let n = r.u32(); n > 0; n--) {
      r.name();
      r.name();
      const kind = r.u8();
      if (kind === 0x00) {
        r.u32();
        this.importedFuncs++;
      } else if (kind === 0x01) {
        skipValType(r);
        readLimits(r);
      } else if (kind === 0x02) {
        readLimits(r);
        this.importedMemories++;
      } else if (kind === 0x03) {
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
    return undefined;
  }
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
function emptiedData(m: ModuleReader, s: Section): Uint8Array {
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

export interface TemplateOptions {
  meter: boolean;
  /** Leave the data (and data count) sections out: see ModuleAnalysis.dropData. */
  dropData: boolean;
  /** i64.const sites turned into per-instance globals, exported as paramExport(k) in this order. */
  paramSites: number[];
}

/**
 * The shared template of a module: memory imported (min 0, no maximum: the host sizes it), active
 * data emptied, optionally metered, chosen constants as parameters.
 */
export function prepareModule(bytes: Uint8Array, options: TemplateOptions): Uint8Array {
  const m = new ModuleReader(bytes);
  const why = m.unsupported();
  if (why) throw new WasmFormatError(`the module cannot be a template: ${why}`);
  const meter = options.meter;
  // New indices: the meter's imports go after the existing function imports; new globals go
  // after the existing ones; new types (if needed) after the existing types.
  const newTypes: number[][] = [];
  const typeFor = (existing: number | undefined, encoding: number[]) => {
    if (existing !== undefined) return existing;
    newTypes.push(encoding);
    return m.types + newTypes.length - 1;
  };
  const checkType = meter ? typeFor(m.checkType, [0x60, 0x00, 0x01, 0x7f]) : 0;
  const voidType = meter ? typeFor(m.voidType, [0x60, 0x00, 0x00]) : 0;
  const checkFunc = m.importedFuncs;
  const fuelGlobal = m.importedGlobals + m.definedGlobals;
  const firstParam = fuelGlobal + (meter ? 1 : 0);
  const rewrite: CodeRewrite = {
    meter: meter ? { fuelGlobal, checkFunc, suspendFunc: checkFunc + 1 } : undefined,
    shiftFuncsFrom: meter ? m.importedFuncs : undefined,
    shiftBy: METER_IMPORTS,
    params: new Map(options.paramSites.map((site, k) => [site, firstParam + k])),
  };
  const shifted = (index: number) => (shifting && index >= m.importedFuncs ? index + METER_IMPORTS : index);
  const shifting = rewrite.shiftFuncsFrom !== undefined;
  const out: Uint8Array[] = [bytes.subarray(0, 8)];
  const has = (id: number) => m.get(id) !== undefined;
  const emit = (id: number, contents: Uint8Array | number[]) => out.push(section(id, Uint8Array.from(contents)));
  const newGlobals = (): number[] => {
    const g: number[] = [];
    if (meter) g.push(0x7f, 0x01, 0x41, 0x00, 0x0b);
    for (let k = 0; k < options.paramSites.length; k++) g.push(0x7e, 0x01, 0x42, 0x00, 0x0b);
    return g;
  };
  const added = (meter ? 1 : 0) + options.paramSites.length;

  // Sections that may be missing from the original but are needed get synthesized in order.
  const order = [SECTION.type, SECTION.import, SECTION.func, SECTION.table, SECTION.memory, SECTION.tag, SECTION.global, SECTION.export, SECTION.start, SECTION.element, SECTION.dataCount, SECTION.code, SECTION.data];
  const synthesized = new Set<number>();
  const synthesize = (before: number) => {
    for (const id of order) {
      if (id === before) return;
      if (has(id) || synthesized.has(id)) continue;
      synthesized.add(id);
      if (id === SECTION.type && newTypes.length > 0) emit(id, [newTypes.length, ...newTypes.flat()]);
      if (id === SECTION.import && (meter || m.memory)) emit(id, concat([Uint8Array.from(u32Leb(importCount())), ...newImports()]));
      if (id === SECTION.global && added > 0) emit(id, [...u32Leb(added), ...newGlobals()]);
      if (id === SECTION.export && added > 0) emit(id, concat([Uint8Array.from(u32Leb(added)), ...newExports()]));
    }
  };
  const importCount = () => (meter ? METER_IMPORTS : 0) + (m.memory ? 1 : 0);
  const newImports = (): Uint8Array[] => {
    const parts: Uint8Array[] = [];
    if (meter) {
      parts.push(nameBytes(METER_MODULE), nameBytes(METER_CHECK), Uint8Array.of(0x00, ...u32Leb(checkType)));
      parts.push(nameBytes(METER_MODULE), nameBytes(METER_SUSPEND), Uint8Array.of(0x00, ...u32Leb(voidType)));
    }
    // Any size is accepted; the host creates the memory with the module's own initial size.
    if (m.memory) parts.push(nameBytes(MEMORY_MODULE), nameBytes(MEMORY_IMPORT), Uint8Array.of(0x02, 0x00, 0x00));
    return parts;
  };
  const newExports = (): Uint8Array[] => {
    const parts: Uint8Array[] = [];
    if (meter) parts.push(nameBytes(FUEL_EXPORT), Uint8Array.of(0x03, ...u32Leb(fuelGlobal)));
    options.paramSites.forEach((_, k) => parts.push(nameBytes(paramExport(k)), Uint8Array.of(0x03, ...u32Leb(firstParam + k))));
    return parts;
  };

  for (const s of m.sections) {
    if (s.id !== SECTION.custom) synthesize(s.id);
    const r = new Reader(bytes, s.start, s.end);
    switch (s.id) {
      case SECTION.custom: {
        // Function names would be off by one once a function import is added.
        const name = r.name();
        if (!(shifting && name === 'name')) out.push(section(s.id, m.contents(s)));
        break;
      }
      case SECTION.type: {
        const count = r.u32();
        if (newTypes.length > 0) emit(s.id, concat([Uint8Array.from(u32Leb(count + newTypes.length)), bytes.subarray(r.pos, s.end), Uint8Array.from(newTypes.flat())]));
        else out.push(section(s.id, m.contents(s)));
        break;
      }
      case SECTION.import: {
        const count = r.u32();
        // The original imports, then ours: the check function's index is the old import count.
        emit(s.id, concat([Uint8Array.from(u32Leb(count + importCount())), bytes.subarray(r.pos, s.end), ...newImports()]));
        break;
      }
      case SECTION.memory:
        break; // now imported
      case SECTION.global: {
        const count = r.u32();
        const parts: Uint8Array[] = [Uint8Array.from(u32Leb(count + added))];
        for (let g = 0; g < count; g++) {
          const start = r.pos;
          skipValType(r);
          r.u8();
          parts.push(bytes.subarray(start, r.pos));
          parts.push(expression(r, rewrite));
        }
        parts.push(Uint8Array.from(newGlobals()));
        emit(s.id, concat(parts));
        break;
      }
      case SECTION.export: {
        const count = r.u32();
        const parts: Uint8Array[] = [Uint8Array.from(u32Leb(count + added))];
        for (let e = 0; e < count; e++) {
          const start = r.pos;
          r.name();
          const kind = r.u8();
          const head = bytes.subarray(start, r.pos);
          const index = r.u32();
          parts.push(head, Uint8Array.from(u32Leb(kind === 0x00 ? shifted(index) : index)));
        }
        parts.push(...newExports());
        emit(s.id, concat(parts));
        break;
      }
      case SECTION.start: {
        const index = r.u32();
        emit(s.id, u32Leb(shifted(index)));
        break;
      }
      case SECTION.element:
        emit(s.id, shifting ? elements(r, rewrite, shifted) : m.contents(s));
        break;
      case SECTION.code:
        emit(s.id, scanCode(m.contents(s), rewrite).code as Uint8Array);
        break;
      case SECTION.data:
        // An imported memory's data is written by the instantiation itself, as in the original.
        if (!m.memory) out.push(section(s.id, m.contents(s)));
        else if (!options.dropData) emit(s.id, emptiedData(m, s));
        break;
      case SECTION.dataCount:
        if (!options.dropData) out.push(section(s.id, m.contents(s)));
        break;
      default:
        out.push(section(s.id, m.contents(s)));
    }
  }
  synthesize(-1);
  return concat(out);
}

/** Copies one constant expression, renumbering ref.func indices when functions shift. */
function expression(r: Reader, rewrite: CodeRewrite): Uint8Array {
  const { out, end } = rewriteExpression(r.bytes.subarray(r.pos, r.end), rewrite.shiftFuncsFrom, rewrite.shiftBy);
  r.pos += end;
  return out;
}

/** The element section with function indices renumbered. */
function elements(r: Reader, rewrite: CodeRewrite, shifted: (index: number) => number): Uint8Array {
  const parts: Uint8Array[] = [];
  const count = r.u32();
  parts.push(Uint8Array.from(u32Leb(count)));
  const funcIndex = (i: number) => Uint8Array.from(u32Leb(shifted(i)));
  for (let n = 0; n < count; n++) {
    const flags = r.u32();
    parts.push(Uint8Array.from(u32Leb(flags)));
    const usesExprs = (flags & 0x04) !== 0;
    if ((flags & 0x01) === 0) {
      if (flags & 0x02) parts.push(Uint8Array.from(u32Leb(r.u32()))); // table index
      parts.push(expression(r, rewrite)); // offset
    }
    if (flags & 0x03) {
      // elemkind (a byte) or a reference type
      const start = r.pos;
      if (usesExprs) skipValType(r);
      else r.u8();
      parts.push(r.bytes.subarray(start, r.pos));
    }
    const items = r.u32();
    parts.push(Uint8Array.from(u32Leb(items)));
    for (let i = 0; i < items; i++) parts.push(usesExprs ? expression(r, rewrite) : funcIndex(r.u32()));
  }
  return concat(parts);
}
