// The canonical ABI for the value types of the worlds this host binds itself: how a WIT value is
// laid out in a guest's linear memory and flattened into core parameters, compiled once per type
// into closures (store, load, lower to flat values, lift from flat values). Strings are UTF-8
// (a component asking for another encoding runs through jco's glue instead).
//
// JS representations: string; Uint8Array for list<u8>; arrays for other lists and tuples;
// bigint for 64-bit integers; T | undefined for option<T>; { tag: 'ok' | 'err', val } for
// result; { tag, val } for variants; the case name for enums; plain objects for records; host
// objects for resource handles (guest-memory.ts keeps the table).

import { GuestMemory, readString, writeString } from './guest-memory.js';


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
  // Flat, a variant is its discriminant and then, position by position, the join of its cases'
  // flat payloads: i64 where any case has one there, else i32.
  const joined: ('i32' | 'i64')[] = [];
  for (const p of payloads) p?.flat.forEach((t, k) => (joined[k] = joined[k] === 'i64' || t === 'i64' ? 'i64' : 'i32'));
  return {
    size,
    align,
    flat: ['i32', ...joined],
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
    lower(mem, value, out) {
      const [index, payload] = toCase(value);
      out.push(index);
      if (joined.length === 0) return;
      const own: unknown[] = [];
      payloads[index]?.lower(mem, payload, own);
      // An i32 where the join has an i64 is zero-extended; positions the case does not use are 0.
      for (let k = 0; k < joined.length; k++) {
        const v = own[k];
        if (joined[k] === 'i32') out.push(v ?? 0);
        else out.push(v === undefined ? 0n : typeof v === 'bigint' ? v : BigInt((v as number) >>> 0));
      }
    },
    lift(mem, args, i) {
      const index = args[i] as number;
      if (index < 0 || index >= cases.length) throw new Error(`invalid discriminant ${index}`);
      const p = payloads[index];
      let payload: unknown;
      if (p) {
        // An i32 of the case carried in an i64 of the join is wrapped back.
        const own = p.flat.map((t, k) => {
          const v = args[i + 1 + k];
          return t === 'i32' && joined[k] === 'i64' ? Number(BigInt.asIntN(32, v as bigint)) : v;
        });
        [payload] = p.lift(mem, own, 0);
      }
      return [fromCase(index, payload), i + 1 + joined.length];
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
