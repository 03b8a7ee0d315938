// The canonical ABI for the value types of the worlds this host binds itself: how a WIT value is
// laid out in a guest's linear memory and flattened into core parameters, compiled once per type
// into closures (store, load, lower to flat values, lift from flat values). Strings are UTF-8
// (a component asking for another encoding runs through jco's glue instead).
//
// JS representations: string; Uint8Array for list<u8>; arrays for other lists and tuples;
// bigint for 64-bit integers; T | undefined for option<T>; { tag: 'ok' | 'err', val } for
// result; { tag, val } for variants; the case name for enums; plain objects for records.

export type ValType =
  | { k: 'bool' | 'u8' | 's8' | 'u16' | 's16' | 'u32' | 's32' | 'u64' | 's64' | 'string' }
  | { k: 'list'; of: ValType }
  | { k: 'option'; of: ValType }
  | { k: 'result'; ok?: ValType; err?: ValType }
  | { k: 'record'; fields: [string, ValType][] }
  | { k: 'tuple'; of: ValType[] }
  | { k: 'variant'; cases: [string, ValType | undefined][] }
  | { k: 'enum'; names: string[] }
  /** Handles of resources the host defines (WASI streams, pollables): own passes ownership. */
  | { k: 'own' | 'borrow' };

export const T = {
  bool: { k: 'bool' } as ValType,
  u8: { k: 'u8' } as ValType,
  u16: { k: 'u16' } as ValType,
  u32: { k: 'u32' } as ValType,
  s32: { k: 's32' } as ValType,
  u64: { k: 'u64' } as ValType,
  s64: { k: 's64' } as ValType,
  string: { k: 'string' } as ValType,
  list: (of: ValType): ValType => ({ k: 'list', of }),
  option: (of: ValType): ValType => ({ k: 'option', of }),
  result: (ok?: ValType, err?: ValType): ValType => ({ k: 'result', ok, err }),
  record: (fields: [string, ValType][]): ValType => ({ k: 'record', fields }),
  tuple: (...of: ValType[]): ValType => ({ k: 'tuple', of }),
  variant: (cases: [string, ValType | undefined][]): ValType => ({ k: 'variant', cases }),
  enum: (...names: string[]): ValType => ({ k: 'enum', names }),
  own: { k: 'own' } as ValType,
  borrow: { k: 'borrow' } as ValType,
};

/**
 * An instance's table of host resources handed to the guest. One table serves every resource
 * type: handles are unique across them, and a guest only ever gives back the handles it got.
 */
export class HandleTable {
  readonly #objects = new Map<number, object>();
  #next = 1;

  insert(object: object): number {
    const handle = this.#next++;
    this.#objects.set(handle, object);
    return handle;
  }

  get(handle: number): object {
    const object = this.#objects.get(handle);
    if (!object) throw new Error(`the guest passed an unknown resource handle ${handle}`);
    return object;
  }

  /** Removes the handle and returns its object: the host owns it now. */
  take(handle: number): object {
    const object = this.get(handle);
    this.#objects.delete(handle);
    return object;
  }

  /** The guest dropped its handle; a droppable object is told. */
  drop(handle: number): void {
    (this.take(handle) as { drop?: () => void }).drop?.();
  }

  get size(): number {
    return this.#objects.size;
  }
}

/** A guest's memory and allocator, as the canon options of one lift or lower name them. */
export class GuestMemory {
  #memory?: WebAssembly.Memory;
  #buffer: ArrayBuffer = new ArrayBuffer(0);
  #view = new DataView(this.#buffer);
  #bytes = new Uint8Array(this.#buffer);

  constructor(
    private readonly resolveMemory: () => WebAssembly.Memory,
    private readonly reallocFn?: () => (oldPtr: number, oldSize: number, align: number, newSize: number) => number,
    /** The instance's resource handles, for own/borrow values. */
    readonly handles = new HandleTable(),
  ) {}

  /**
   * Views are cached: a memory that grows detaches its old buffer (byteLength 0), which is
   * cheaper to test than asking the memory for its buffer at every access.
   */
  #refresh(): void {
    this.#memory ??= this.resolveMemory();
    this.#buffer = this.#memory.buffer;
    this.#view = new DataView(this.#buffer);
    this.#bytes = new Uint8Array(this.#buffer);
  }

  get view(): DataView {
    if (this.#buffer.byteLength === 0) this.#refresh();
    return this.#view;
  }

  get bytes(): Uint8Array {
    if (this.#buffer.byteLength === 0) this.#refresh();
    return this.#bytes;
  }

  alloc(size: number, align: number): number {
    if (size === 0) return align;
    if (!this.reallocFn) throw new Error('the guest gave no allocator for this call');
    const ptr = this.reallocFn()(0, 0, align, size) >>> 0;
    if (ptr % align !== 0 || ptr + size > this.bytes.length) throw new Error('the guest allocator returned an invalid pointer');
    return ptr;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function readString(mem: GuestMemory, ptr: number, len: number): string {
  if (ptr + len > mem.bytes.length) throw new Error('a string lies outside the guest memory');
  const bytes = mem.bytes;
  // Short ASCII strings (keys, header names) are the common case: no decoder call.
  if (len <= 64) {
    let s = '';
    for (let i = ptr; i < ptr + len; i++) {
      const b = bytes[i];
      if (b >= 0x80) return decoder.decode(bytes.subarray(ptr, ptr + len));
      s += String.fromCharCode(b);
    }
    return s;
  }
  return decoder.decode(bytes.subarray(ptr, ptr + len));
}

function writeString(mem: GuestMemory, s: string): [number, number] {
  // ASCII (header names, most values, keys) is copied char by char: no encoder, no garbage.
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    const ptr = mem.alloc(s.length, 1);
    const bytes = mem.bytes;
    for (let i = 0; i < s.length; i++) bytes[ptr + i] = s.charCodeAt(i);
    return [ptr, s.length];
  }
  const encoded = encoder.encode(s);
  const ptr = mem.alloc(encoded.length, 1);
  mem.bytes.set(encoded, ptr);
  return [ptr, encoded.length];
}

export interface Layout {
  size: number;
  align: number;
  /** Core values this type flattens to. */
  flat: ('i32' | 'i64')[];
  store(mem: GuestMemory, ptr: number, value: unknown): void;
  load(mem: GuestMemory, ptr: number): unknown;
  /** Flattened values (lists and strings are allocated in the guest). */
  lower(mem: GuestMemory, value: unknown, out: unknown[]): void;
  /** From flat core values starting at args[i]; returns the value and the next index. */
  lift(mem: GuestMemory, args: unknown[], i: number): [unknown, number];
}

const alignTo = (n: number, align: number) => Math.ceil(n / align) * align;

function primitive(k: string): Layout {
  const size = k === 'bool' || k === 'u8' || k === 's8' ? 1 : k === 'u16' || k === 's16' ? 2 : k === 'u64' || k === 's64' ? 8 : 4;
  const wide = size === 8;
  const get: (v: DataView, p: number) => unknown = {
    bool: (v: DataView, p: number) => v.getUint8(p) !== 0,
    u8: (v: DataView, p: number) => v.getUint8(p),
    s8: (v: DataView, p: number) => v.getInt8(p),
    u16: (v: DataView, p: number) => v.getUint16(p, true),
    s16: (v: DataView, p: number) => v.getInt16(p, true),
    u32: (v: DataView, p: number) => v.getUint32(p, true),
    s32: (v: DataView, p: number) => v.getInt32(p, true),
    u64: (v: DataView, p: number) => v.getBigUint64(p, true),
    s64: (v: DataView, p: number) => v.getBigInt64(p, true),
  }[k] as (v: DataView, p: number) => unknown;
  const set: (v: DataView, p: number, x: unknown) => void = {
    bool: (v: DataView, p: number, x: unknown) => v.setUint8(p, x ? 1 : 0),
    u8: (v: DataView, p: number, x: unknown) => v.setUint8(p, x as number),
    s8: (v: DataView, p: number, x: unknown) => v.setInt8(p, x as number),
    u16: (v: DataView, p: number, x: unknown) => v.setUint16(p, x as number, true),
    s16: (v: DataView, p: number, x: unknown) => v.setInt16(p, x as number, true),
    u32: (v: DataView, p: number, x: unknown) => v.setUint32(p, x as number, true),
    s32: (v: DataView, p: number, x: unknown) => v.setInt32(p, x as number, true),
    u64: (v: DataView, p: number, x: unknown) => v.setBigUint64(p, BigInt(x as bigint), true),
    s64: (v: DataView, p: number, x: unknown) => v.setBigInt64(p, BigInt(x as bigint), true),
  }[k] as (v: DataView, p: number, x: unknown) => void;
  const fromFlat = {
    bool: (x: unknown) => x !== 0,
    u8: (x: unknown) => (x as number) & 0xff,
    s8: (x: unknown) => ((x as number) << 24) >> 24,
    u16: (x: unknown) => (x as number) & 0xffff,
    s16: (x: unknown) => ((x as number) << 16) >> 16,
    u32: (x: unknown) => (x as number) >>> 0,
    s32: (x: unknown) => (x as number) | 0,
    u64: (x: unknown) => BigInt.asUintN(64, x as bigint),
    s64: (x: unknown) => BigInt.asIntN(64, x as bigint),
  }[k] as (x: unknown) => unknown;
  return {
    size,
    align: size,
    flat: [wide ? 'i64' : 'i32'],
    store: (mem, ptr, value) => set(mem.view, ptr, value),
    load: (mem, ptr) => get(mem.view, ptr),
    lower: (_mem, value, out) => void out.push(k === 'bool' ? (value ? 1 : 0) : wide ? BigInt.asIntN(64, BigInt(value as bigint)) : (value as number) | 0),
    lift: (_mem, args, i) => [fromFlat(args[i]), i + 1],
  };
}

const STRING: Layout = {
  size: 8,
  align: 4,
  flat: ['i32', 'i32'],
  store(mem, ptr, value) {
    const [p, n] = writeString(mem, value as string);
    const v = mem.view;
    v.setUint32(ptr, p, true);
    v.setUint32(ptr + 4, n, true);
  },
  load(mem, ptr) {
    const v = mem.view;
    return readString(mem, v.getUint32(ptr, true), v.getUint32(ptr + 4, true));
  },
  lower(mem, value, out) {
    out.push(...writeString(mem, value as string));
  },
  lift(mem, args, i) {
    return [readString(mem, (args[i] as number) >>> 0, (args[i + 1] as number) >>> 0), i + 2];
  },
};

function list(of: ValType): Layout {
  const el = layout(of);
  const bytes = of.k === 'u8';
  const storeElements = (mem: GuestMemory, value: unknown): [number, number] => {
    if (bytes) {
      const data = value as Uint8Array;
      const ptr = mem.alloc(data.length, 1);
      mem.bytes.set(data, ptr);
      return [ptr, data.length];
    }
    const items = value as unknown[];
    const ptr = mem.alloc(items.length * el.size, el.align);
    // Elements may allocate (strings), so each store reads the view afresh.
    for (let i = 0; i < items.length; i++) el.store(mem, ptr + i * el.size, items[i]);
    return [ptr, items.length];
  };
  const loadElements = (mem: GuestMemory, ptr: number, len: number): unknown => {
    if (ptr + len * el.size > mem.bytes.length) throw new Error('a list lies outside the guest memory');
    if (bytes) return mem.bytes.slice(ptr, ptr + len);
    const out = new Array(len);
    for (let i = 0; i < len; i++) out[i] = el.load(mem, ptr + i * el.size);
    return out;
  };
  return {
    size: 8,
    align: 4,
    flat: ['i32', 'i32'],
    store(mem, ptr, value) {
      const [p, n] = storeElements(mem, value);
      const v = mem.view;
      v.setUint32(ptr, p, true);
      v.setUint32(ptr + 4, n, true);
    },
    load(mem, ptr) {
      const v = mem.view;
      return loadElements(mem, v.getUint32(ptr, true), v.getUint32(ptr + 4, true));
    },
    lower(mem, value, out) {
      out.push(...storeElements(mem, value));
    },
    lift(mem, args, i) {
      return [loadElements(mem, (args[i] as number) >>> 0, (args[i + 1] as number) >>> 0), i + 2];
    },
  };
}

function fields(types: ValType[]): { layouts: Layout[]; offsets: number[]; size: number; align: number } {
  const layouts = types.map(layout);
  let size = 0;
  let align = 1;
  const offsets: number[] = [];
  for (const l of layouts) {
    size = alignTo(size, l.align);
    offsets.push(size);
    size += l.size;
    align = Math.max(align, l.align);
  }
  return { layouts, offsets, size: alignTo(size, align), align };
}

function record(names: string[], types: ValType[], asTuple: boolean): Layout {
  const { layouts, offsets, size, align } = fields(types);
  const get = (value: unknown, i: number) => (asTuple ? (value as unknown[])[i] : (value as Record<string, unknown>)[names[i]]);
  const n = layouts.length;
  return {
    size,
    align,
    flat: layouts.flatMap((l) => l.flat),
    store(mem, ptr, value) {
      for (let i = 0; i < layouts.length; i++) layouts[i].store(mem, ptr + offsets[i], get(value, i));
    },
    load(mem, ptr) {
      if (asTuple) {
        const out = new Array(n);
        for (let i = 0; i < n; i++) out[i] = layouts[i].load(mem, ptr + offsets[i]);
        return out;
      }
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) o[names[i]] = layouts[i].load(mem, ptr + offsets[i]);
      return o;
    },
    lower(mem, value, out) {
      for (let i = 0; i < layouts.length; i++) layouts[i].lower(mem, get(value, i), out);
    },
    lift(mem, args, i) {
      const values: unknown[] = new Array(n);
      for (let k = 0; k < n; k++) [values[k], i] = layouts[k].lift(mem, args, i);
      if (asTuple) return [values, i];
      const o: Record<string, unknown> = {};
      for (let k = 0; k < n; k++) o[names[k]] = values[k];
      return [o, i];
    },
  };
}

/**
 * Variants, options, results and enums: a discriminant, then the payload of the case at the
 * payload offset. `toCase`/`fromCase` translate between the JS value and (case index, payload).
 */
function tagged(
  cases: (ValType | undefined)[],
  toCase: (value: unknown) => [number, unknown],
  fromCase: (index: number, payload: unknown) => unknown,
): Layout {
  const payloads = cases.map((c) => (c ? layout(c) : undefined));
  const discSize = cases.length <= 256 ? 1 : cases.length <= 65536 ? 2 : 4;
  let align = discSize;
  let payloadSize = 0;
  for (const p of payloads) {
    if (!p) continue;
    align = Math.max(align, p.align);
    payloadSize = Math.max(payloadSize, p.size);
  }
  const payloadOffset = alignTo(discSize, align);
  const size = alignTo(payloadOffset + payloadSize, align);
  const setDisc = (v: DataView, p: number, d: number) => (discSize === 1 ? v.setUint8(p, d) : discSize === 2 ? v.setUint16(p, d, true) : v.setUint32(p, d, true));
  const getDisc = (v: DataView, p: number) => (discSize === 1 ? v.getUint8(p) : discSize === 2 ? v.getUint16(p, true) : v.getUint32(p, true));
  const hasPayload = payloads.some((p) => p !== undefined);
  return {
    size,
    align,
    // Flattening a variant in parameters needs the joined flat types of its cases; nothing this
    // host binds passes one as a parameter, so only the discriminant-only form is offered.
    flat: hasPayload ? [] : ['i32'],
    store(mem, ptr, value) {
      const [index, payload] = toCase(value);
      setDisc(mem.view, ptr, index);
      payloads[index]?.store(mem, ptr + payloadOffset, payload);
    },
    load(mem, ptr) {
      const index = getDisc(mem.view, ptr);
      if (index >= cases.length) throw new Error(`invalid discriminant ${index}`);
      const payload = payloads[index]?.load(mem, ptr + payloadOffset);
      return fromCase(index, payload);
    },
    lower(_mem, value, out) {
      if (hasPayload) throw new Error('a variant with payloads cannot be passed flat');
      out.push(toCase(value)[0]);
    },
    lift(_mem, args, i) {
      if (hasPayload) throw new Error('a variant with payloads cannot be passed flat');
      const index = args[i] as number;
      if (index < 0 || index >= cases.length) throw new Error(`invalid discriminant ${index}`);
      return [fromCase(index, undefined), i + 1];
    },
  };
}

const cache = new WeakMap<ValType, Layout>();

export function layout(t: ValType): Layout {
  let l = cache.get(t);
  if (l) return l;
  switch (t.k) {
    case 'string':
      l = STRING;
      break;
    case 'list':
      l = list(t.of);
      break;
    case 'record':
      l = record(t.fields.map(([n]) => n), t.fields.map(([, ft]) => ft), false);
      break;
    case 'tuple':
      l = record([], t.of, true);
      break;
    case 'option':
      l = tagged([undefined, t.of], (v) => (v === undefined ? [0, undefined] : [1, v]), (i, p) => (i === 0 ? undefined : p));
      break;
    case 'result':
      l = tagged(
        [t.ok, t.err],
        (v) => {
          const r = v as { tag: 'ok' | 'err'; val?: unknown };
          return [r.tag === 'ok' ? 0 : 1, r.val];
        },
        (i, p) => ({ tag: i === 0 ? 'ok' : 'err', val: p }),
      );
      break;
    case 'variant': {
      const names = t.cases.map(([n]) => n);
      l = tagged(
        t.cases.map(([, ct]) => ct),
        (v) => {
          const { tag, val } = v as { tag: string; val?: unknown };
          const index = names.indexOf(tag);
          if (index < 0) throw new Error(`unknown variant case ${tag}`);
          return [index, val];
        },
        (i, p) => ({ tag: names[i], val: p }),
      );
      break;
    }
    case 'own':
    case 'borrow': {
      const own = t.k === 'own';
      // A handle is an i32 in memory and in flat values; lifting an own takes it out of the table.
      const fromGuest = (mem: GuestMemory, h: number) => (own ? mem.handles.take(h) : mem.handles.get(h));
      l = {
        size: 4,
        align: 4,
        flat: ['i32'],
        store: (mem, ptr, value) => mem.view.setUint32(ptr, mem.handles.insert(value as object), true),
        load: (mem, ptr) => fromGuest(mem, mem.view.getUint32(ptr, true)),
        lower: (mem, value, out) => void out.push(mem.handles.insert(value as object)),
        lift: (mem, args, i) => [fromGuest(mem, (args[i] as number) >>> 0), i + 1],
      };
      break;
    }
    case 'enum': {
      const names = t.names;
      l = tagged(
        names.map(() => undefined),
        (v) => {
          const index = names.indexOf(v as string);
          if (index < 0) throw new Error(`unknown enum case ${String(v)}`);
          return [index, undefined];
        },
        (i) => names[i],
      );
      break;
    }
    default:
      l = primitive(t.k);
  }
  cache.set(t, l);
  return l;
}

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
