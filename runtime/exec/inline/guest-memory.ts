// A guest's linear memory and allocator as the canonical ABI reaches them from the host, the
// UTF-8 strings in it, and the table of host resources the guest holds handles to.

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
  #text = Buffer.from(this.#buffer);

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
    this.#text = Buffer.from(this.#buffer);
  }

  get view(): DataView {
    if (this.#buffer.byteLength === 0) this.#refresh();
    return this.#view;
  }

  get bytes(): Uint8Array {
    if (this.#buffer.byteLength === 0) this.#refresh();
    return this.#bytes;
  }

  /** The same memory as a Buffer, for its native decoding of text. */
  get text(): Buffer {
    if (this.#buffer.byteLength === 0) this.#refresh();
    return this.#text;
  }

  alloc(size: number, align: number): number {
    if (!this.reallocFn) {
      // Nothing to copy needs no allocator.
      if (size === 0) return align;
      throw new Error('the guest gave no allocator for this call');
    }
    // Empty lists and strings too come from the guest's allocator, as the canonical ABI has it:
    // a guest may free what it was given (componentize-py's CPython does), and a pointer it did
    // not allocate would corrupt its heap.
    const ptr = this.reallocFn()(0, 0, align, size) >>> 0;
    if (ptr % align !== 0 || ptr + size > this.bytes.length) throw new Error('the guest allocator returned an invalid pointer');
    return ptr;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function readString(mem: GuestMemory, ptr: number, len: number): string {
  if (ptr + len > mem.bytes.length) throw new Error('a string lies outside the guest memory');
  const bytes = mem.bytes;
  // Short ASCII strings (keys, header names) are the common case: their bytes are their Latin-1
  // text, which Buffer decodes flat in native code (no UTF-8 validation, no string built a
  // character at a time, as a concatenation would be, to be flattened when it is hashed).
  if (len <= 64) {
    for (let i = ptr; i < ptr + len; i++) if (bytes[i] >= 0x80) return decoder.decode(bytes.subarray(ptr, ptr + len));
    return mem.text.toString('latin1', ptr, ptr + len);
  }
  return decoder.decode(bytes.subarray(ptr, ptr + len));
}

export function writeString(mem: GuestMemory, s: string): [number, number] {
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
