// Builds the shared template of a core module (see module.ts for what a template is): memory
// imported, tables capped, active data lifted out or emptied, metering injected (call-graph.ts
// picks the function entries it checks), chosen i64 constants turned into per-instance
// parameters, every function index renumbered for the imports it adds.

import { concat, nameBytes, Reader, section, u32Leb, WasmFormatError } from './binary.js';
import { entryChecks, readModuleFacts } from './call-graph.js';
import { rewriteExpression, scanCode, type CodeRewrite } from './code.js';
import {
  cappedTables,
  emptiedData,
  FUEL_EXPORT,
  MEMORY_IMPORT,
  MEMORY_MODULE,
  METER_CHECK,
  METER_IMPORTS,
  METER_MODULE,
  METER_SUSPEND,
  ModuleReader,
  START_EXPORT,
  paramExport,
  SECTION,
  skipValType,
} from './module.js';

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
    meter: meter
      ? {
          fuelGlobal,
          // Appended after the defined functions (by scanCode): no index moves for it.
          slowFunc: m.importedFuncs + METER_IMPORTS + m.definedFuncs,
          checkFunc,
          suspendFunc: checkFunc + 1,
          entries: (bodies) => entryChecks(readModuleFacts(m), bodies),
        }
      : undefined,
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
  // The start function becomes an export (START_EXPORT) and the start section goes.
  const startSection = m.get(SECTION.start);
  const startFunc = startSection && new Reader(bytes, startSection.start, startSection.end).u32();
  const exportsAdded = added + (startFunc === undefined ? 0 : 1);

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
      if (id === SECTION.export && exportsAdded > 0) emit(id, concat([Uint8Array.from(u32Leb(exportsAdded)), ...newExports()]));
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
    if (startFunc !== undefined) parts.push(nameBytes(START_EXPORT), Uint8Array.of(0x00, ...u32Leb(shifted(startFunc))));
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
      case SECTION.func: {
        // The metering's slow path (code.ts) is one more function, of type [] -> [].
        if (!meter || !has(SECTION.code)) out.push(section(s.id, m.contents(s)));
        else emit(s.id, concat([Uint8Array.from(u32Leb(r.u32() + 1)), bytes.subarray(r.pos, s.end), Uint8Array.from(u32Leb(voidType))]));
        break;
      }
      case SECTION.table:
        emit(s.id, cappedTables(m, s, rewrite.shiftFuncsFrom, rewrite.shiftBy));
        break;
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
        const parts: Uint8Array[] = [Uint8Array.from(u32Leb(count + exportsAdded))];
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
      case SECTION.start:
        break; // exported as START_EXPORT instead
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
