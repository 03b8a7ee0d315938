// Reads the instantiation plan of a component binary: its core modules, the core instances made
// from them, the aliases and canonical lowerings that wire those instances together, and the
// lifted exports. This is what a host needs to instantiate the component itself, with its own
// bindings for the imports, instead of generated glue.
//
// It covers the shape toolchains produce for a flat component (wit-component, as used by
// componentize-js, cargo-component, `jco new`, wasm-tools): core modules, core instances,
// core aliases, canon lift/lower/resource operations, imports and exports of instances and
// functions, types, and nested components that only re-export types (wit-component's export
// shims). Anything else (a nested component with code, component-level start functions, values,
// the async ABI) is reported in `unsupported`, and the caller runs the component another way.

import { Reader, sections, WasmFormatError } from './binary.js';

export type CoreSort = 'func' | 'table' | 'memory' | 'global' | 'type' | 'module' | 'instance';
const CORE_SORTS: Record<number, CoreSort> = { 0x00: 'func', 0x01: 'table', 0x02: 'memory', 0x03: 'global', 0x10: 'type', 0x11: 'module', 0x12: 'instance' };
type Sort = 'core' | 'func' | 'value' | 'type' | 'component' | 'instance';
const SORTS: Record<number, Sort> = { 0x00: 'core', 0x01: 'func', 0x02: 'value', 0x03: 'type', 0x04: 'component', 0x05: 'instance' };

export interface CanonOptions {
  encoding: 'utf8' | 'utf16' | 'latin1+utf16';
  /** Core memory index. */
  memory?: number;
  /** Core function index of cabi_realloc. */
  realloc?: number;
  postReturn?: number;
  async: boolean;
}

/** One definition, in the order the component makes them; instantiating follows this order. */
export type Definition =
  | { kind: 'core-instance'; index: number; module: number; args: { name: string; instance: number }[] }
  | { kind: 'core-exports'; index: number; exports: { name: string; sort: CoreSort; index: number }[] }
  | { kind: 'core-alias'; sort: CoreSort; index: number; instance: number; name: string }
  /** A component function lowered to a core function. */
  | { kind: 'lower'; index: number; func: number; options: CanonOptions }
  | { kind: 'resource'; op: 'new' | 'drop' | 'rep'; index: number; type: number };

/** Where a component-level function comes from. */
export type ComponentFunc =
  /** An export of an imported instance: `interface` is the import's name (e.g. enoki:faas/kv@0.1.0). */
  | { kind: 'imported'; interface: string; name: string }
  | { kind: 'lifted'; core: number; options: CanonOptions }
  | { kind: 'other' };

export interface ComponentPlan {
  modules: Uint8Array[];
  definitions: Definition[];
  funcs: ComponentFunc[];
  /** Names of imported instances (interfaces), in import order. */
  imports: string[];
  /** Top-level export names. */
  exports: string[];
  /** Why a host with its own bindings cannot instantiate this component; empty when it can. */
  unsupported: string[];
}

function readName(r: Reader): string {
  // importname' / exportname': 0x00 name, or 0x01 name + version suffix.
  const tag = r.u8();
  const name = r.name();
  if (tag === 0x01) r.name();
  else if (tag !== 0x00) throw new WasmFormatError(`unknown extern name tag ${tag}`, r.pos);
  return name;
}

function readCoreSort(r: Reader): CoreSort {
  const byte = r.u8();
  const sort = CORE_SORTS[byte];
  if (!sort) throw new WasmFormatError(`unknown core sort ${byte}`, r.pos);
  return sort;
}

function readSort(r: Reader): { sort: Sort; core?: CoreSort } {
  const byte = r.u8();
  const sort = SORTS[byte];
  if (!sort) throw new WasmFormatError(`unknown sort ${byte}`, r.pos);
  return sort === 'core' ? { sort, core: readCoreSort(r) } : { sort };
}

function readOptions(r: Reader, unsupported: string[]): CanonOptions {
  const options: CanonOptions = { encoding: 'utf8', async: false };
  for (let n = r.u32(); n > 0; n--) {
    const tag = r.u8();
    if (tag === 0x00) options.encoding = 'utf8';
    else if (tag === 0x01) options.encoding = 'utf16';
    else if (tag === 0x02) options.encoding = 'latin1+utf16';
    else if (tag === 0x03) options.memory = r.u32();
    else if (tag === 0x04) options.realloc = r.u32();
    else if (tag === 0x05) options.postReturn = r.u32();
    else if (tag === 0x06) options.async = true;
    else if (tag === 0x07) {
      r.u32();
      unsupported.push('an async callback');
    } else throw new WasmFormatError(`unknown canonical option ${tag}`, r.pos);
  }
  return options;
}

/** The extern description of an import or export: only its sort matters here. */
function skipExternDesc(r: Reader): number {
  const kind = r.u8();
  if (kind === 0x00) {
    r.u8(); // 0x11: core module
    r.u32();
  } else if (kind === 0x02 || kind === 0x03) {
    const bound = r.u8();
    if (bound === 0x00) r.u32();
    else if (kind === 0x02) r.s33();
  } else r.u32();
  return kind;
}

/** A nested component counts as a pure type re-export shim when it has no code of its own. */
function hasCode(bytes: Uint8Array): boolean {
  return sections(bytes).some((s) => s.id === 1 || s.id === 2 || s.id === 8 || (s.id === 4 && hasCode(bytes.subarray(s.start, s.end))));
}

export function parseComponent(bytes: Uint8Array): ComponentPlan {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d || bytes[6] !== 1) {
    throw new WasmFormatError('not a component');
  }
  const plan: ComponentPlan = { modules: [], definitions: [], funcs: [], imports: [], exports: [], unsupported: [] };
  const { modules, definitions, funcs, unsupported } = plan;
  // Component-level index spaces this plan needs; the others are only counted.
  const instances: (string | undefined)[] = [];
  let coreInstances = 0;
  const coreCount: Record<CoreSort, number> = { func: 0, table: 0, memory: 0, global: 0, type: 0, module: 0, instance: 0 };

  for (const s of sections(bytes)) {
    const r = new Reader(bytes, s.start, s.end);
    switch (s.id) {
      case 0: // custom
        break;
      case 1:
        modules.push(bytes.subarray(s.start, s.end));
        coreCount.module++;
        break;
      case 2:
        for (let n = r.u32(); n > 0; n--) {
          const tag = r.u8();
          const index = coreInstances++;
          if (tag === 0x00) {
            const module = r.u32();
            const args: { name: string; instance: number }[] = [];
            for (let a = r.u32(); a > 0; a--) {
              const name = r.name();
              if (r.u8() !== 0x12) throw new WasmFormatError('a core instantiate argument is not an instance', r.pos);
              args.push({ name, instance: r.u32() });
            }
            definitions.push({ kind: 'core-instance', index, module, args });
          } else if (tag === 0x01) {
            const exports: { name: string; sort: CoreSort; index: number }[] = [];
            for (let e = r.u32(); e > 0; e--) exports.push({ name: r.name(), sort: readCoreSort(r), index: r.u32() });
            definitions.push({ kind: 'core-exports', index, exports });
          } else throw new WasmFormatError(`unknown core instance tag ${tag}`, r.pos);
        }
        break;
      case 3:
        coreCount.type += r.u32();
        break;
      case 4:
        if (hasCode(bytes.subarray(s.start, s.end))) unsupported.push('a nested component with code');
        break;
      case 5:
        for (let n = r.u32(); n > 0; n--) instances.push(undefined);
        break;
      case 6:
        for (let n = r.u32(); n > 0; n--) {
          const { sort, core } = readSort(r);
          const target = r.u8();
          if (target === 0x00) {
            const instance = r.u32();
            const name = r.name();
            if (sort === 'func') {
              const iface = instances[instance];
              funcs.push(iface === undefined ? { kind: 'other' } : { kind: 'imported', interface: iface, name });
            } else if (sort === 'instance') instances.push(undefined);
          } else if (target === 0x01) {
            const instance = r.u32();
            const name = r.name();
            if (!core) throw new WasmFormatError('a core export alias of a component sort', r.pos);
            definitions.push({ kind: 'core-alias', sort: core, index: coreCount[core]++, instance, name });
          } else if (target === 0x02) {
            r.u32();
            r.u32();
            if (core) {
              if (core === 'module' || core === 'instance' || core === 'func') unsupported.push(`an outer alias of a core ${core}`);
              coreCount[core]++;
            } else if (sort === 'func' || sort === 'instance') unsupported.push(`an outer alias of a ${sort}`);
          } else throw new WasmFormatError(`unknown alias target ${target}`, r.pos);
        }
        break;
      case 7:
        r.u32(); // component types are counted by nothing this plan needs
        break;
      case 8:
        for (let n = r.u32(); n > 0; n--) {
          const tag = r.u8();
          if (tag === 0x00) {
            r.u8();
            const core = r.u32();
            const options = readOptions(r, unsupported);
            r.u32();
            if (options.async) unsupported.push('an async export');
            funcs.push({ kind: 'lifted', core, options });
          } else if (tag === 0x01) {
            r.u8();
            const func = r.u32();
            const options = readOptions(r, unsupported);
            if (options.async) unsupported.push('an async import');
            definitions.push({ kind: 'lower', index: coreCount.func++, func, options });
          } else if (tag === 0x02 || tag === 0x03 || tag === 0x04 || tag === 0x07) {
            const op = tag === 0x02 ? 'new' : tag === 0x04 ? 'rep' : 'drop';
            definitions.push({ kind: 'resource', op, index: coreCount.func++, type: r.u32() });
          } else {
            unsupported.push(`canonical built-in 0x${tag.toString(16)}`);
            // Its immediates are unknown here, so the rest of the section cannot be read.
            return plan;
          }
        }
        break;
      case 9:
        unsupported.push('a component start function');
        break;
      case 10:
        for (let n = r.u32(); n > 0; n--) {
          const name = readName(r);
          const kind = skipExternDesc(r);
          if (kind === 0x05) {
            instances.push(name);
            plan.imports.push(name);
          } else if (kind === 0x01) {
            funcs.push({ kind: 'other' });
            unsupported.push(`a function import (${name})`);
          } else if (kind === 0x00 || kind === 0x04) unsupported.push(`an import of a ${kind === 0 ? 'core module' : 'component'} (${name})`);
          else if (kind === 0x02) unsupported.push(`a value import (${name})`);
        }
        break;
      case 11:
        for (let n = r.u32(); n > 0; n--) {
          const name = readName(r);
          const { sort } = readSort(r);
          r.u32();
          if (r.u8() === 0x01) skipExternDesc(r);
          plan.exports.push(name);
          // An export is also a new index of its sort.
          if (sort === 'func') funcs.push({ kind: 'other' });
          else if (sort === 'instance') instances.push(undefined);
        }
        break;
      case 12:
        unsupported.push('values');
        break;
      default:
        throw new WasmFormatError(`unknown component section ${s.id}`, s.start);
    }
  }
  return plan;
}
