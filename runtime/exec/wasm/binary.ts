// Reading and writing the WebAssembly binary encoding: LEB128 integers, names, sections, a
// growable writer. Shared by the component parser, the module rewriter and the metering
// instrumenter; every read is bounds-checked and fails with a WasmFormatError naming the offset.

export class WasmFormatError extends Error {
  constructor(message: string, readonly offset?: number) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`);
    this.name = 'WasmFormatError';
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export class Reader {
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) throw new WasmFormatError('unexpected end', this.pos);
    return this.bytes[this.pos++];
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.u8();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
      if (shift > 28) {
        if (shift > 35) throw new WasmFormatError('u32 LEB128 too long', this.pos);
      }
    }
    if (result > 0xffffffff) throw new WasmFormatError('u32 out of range', this.pos);
    return result;
  }

  /** Skips a signed or unsigned LEB128 of any width. */
  skipLeb(): void {
    for (let n = 0; ; n++) {
      if ((this.u8() & 0x80) === 0) return;
      if (n > 10) throw new WasmFormatError('LEB128 too long', this.pos);
    }
  }

  /** A signed 33-bit block type index or a negative value type byte, as a number. */
  s33(): number {
    let result = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = this.u8();
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (shift > 35) throw new WasmFormatError('s33 LEB128 too long', this.pos);
    } while (byte & 0x80);
    if (byte & 0x40) result -= 2 ** shift;
    return result;
  }

  /** Signed LEB128 as a bigint (i64.const immediates). */
  s64(): bigint {
    let result = 0n;
    let shift = 0n;
    let byte: number;
    do {
      byte = this.u8();
      result |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if (shift > 70n) throw new WasmFormatError('s64 LEB128 too long', this.pos);
    } while (byte & 0x80);
    if (byte & 0x40) result -= 1n << shift;
    return result;
  }

  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.end) throw new WasmFormatError(`${n} bytes past the end`, this.pos);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(n: number): void {
    this.take(n);
  }

  name(): string {
    const bytes = this.take(this.u32());
    try {
      return decoder.decode(bytes);
    } catch {
      throw new WasmFormatError('a name is not UTF-8', this.pos);
    }
  }
}

export function u32Leb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

export function s32Leb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** A growable byte buffer. */
export class ByteWriter {
  #buf: Uint8Array;
  length = 0;

  constructor(capacity = 1024) {
    this.#buf = new Uint8Array(capacity);
  }

  #reserve(n: number): void {
    if (this.length + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.length + n));
    next.set(this.#buf.subarray(0, this.length));
    this.#buf = next;
  }

  byte(b: number): void {
    this.#reserve(1);
    this.#buf[this.length++] = b;
  }

  bytes(src: ArrayLike<number>): void {
    this.#reserve(src.length);
    this.#buf.set(src, this.length);
    this.length += src.length;
  }

  u32(value: number): void {
    this.bytes(u32Leb(value));
  }

  result(): Uint8Array {
    return this.#buf.slice(0, this.length);
  }
}

export function nameBytes(name: string): Uint8Array {
  const utf8 = new TextEncoder().encode(name);
  return concat([Uint8Array.from(u32Leb(utf8.length)), utf8]);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** A section as it appears in a module or component: id, and the bounds of its contents. */
export interface Section {
  id: number;
  start: number;
  end: number;
}

/** The sections after the 8-byte preamble, in order. */
export function sections(bytes: Uint8Array): Section[] {
  const out: Section[] = [];
  const r = new Reader(bytes, 8);
  while (!r.done) {
    const id = r.u8();
    const size = r.u32();
    const start = r.pos;
    r.skip(size);
    out.push({ id, start, end: start + size });
  }
  return out;
}

/** Encodes a section: id, size, contents. */
export function section(id: number, contents: Uint8Array): Uint8Array {
  return concat([Uint8Array.of(id, ...u32Leb(contents.length)), contents]);
}
