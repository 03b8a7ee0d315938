// How wasi:keyvalue@0.2.0-draft's data model maps onto a FReD keygroup, in both directions.
//
// Buckets: a function has one bucket, its keygroup; both "" (wasmCloud's examples) and "default"
// (Spin's) name it. Any other name is `no-such-store`.
//
// Keys are any strings in wasi:keyvalue; FReD ids are 1–512 letters and digits. A key that is
// already such an id (and does not start with "0x") is stored under itself, so an enoki:faas guest
// or a FReD client sees the same item; any other key (empty, with other characters, or starting
// with "0x") is stored as "0x" followed by the hex of its UTF-8 bytes. The mapping is one to one;
// ids starting with "0x" are reserved for it, and keys of more than 255 UTF-8 bytes that need it
// are refused.
//
// Values are bytes in wasi:keyvalue and non-empty strings in FReD. Bytes that are non-empty UTF-8
// text not starting with U+0000 are stored as that text (readable by FReD clients and enoki:faas
// guests: `increment` keeps decimal text, as enoki:faas/atomics does); anything else (binary, the
// empty value, text starting with U+0000) is stored as U+0000 followed by its base64.

export const WASI_KEYVALUE_OPS = {
  get: 'keyvalue.get',
  set: 'keyvalue.set',
  delete: 'keyvalue.delete',
  exists: 'keyvalue.exists',
  listKeys: 'keyvalue.listKeys',
  increment: 'keyvalue.increment',
  getMany: 'keyvalue.getMany',
  setMany: 'keyvalue.setMany',
  deleteMany: 'keyvalue.deleteMany',
} as const;

export function isWasiKeyvalueOp(op: string): boolean {
  return op.startsWith('keyvalue.');
}

/** The bucket an identifier opens, or undefined when it names no store of this function. */
export function bucketOf(identifier: string): string | undefined {
  return identifier === '' || identifier === 'default' ? 'default' : undefined;
}

const PLAIN_ID = /^[a-zA-Z0-9]{1,512}$/;
const ENCODED_ID = /^0x(?:[0-9a-f]{2})*$/;
const MAX_ID_LENGTH = 512;
const BINARY_MARK = '\u0000';
// ignoreBOM keeps a leading byte-order mark in the text, so such values round-trip too.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class KeyMappingError extends Error {}

export function encodeKey(key: string): string {
  if (PLAIN_ID.test(key) && !key.startsWith('0x')) return key;
  const id = `0x${Buffer.from(key, 'utf8').toString('hex')}`;
  if (id.length > MAX_ID_LENGTH) {
    throw new KeyMappingError(`key of ${Buffer.byteLength(key)} bytes is too long: at most 255 UTF-8 bytes when it has characters other than letters and digits`);
  }
  return id;
}

export function decodeKey(id: string): string {
  if (!ENCODED_ID.test(id)) return id;
  try {
    return utf8.decode(Buffer.from(id.slice(2), 'hex'));
  } catch {
    return id;
  }
}

export function encodeValue(bytes: Uint8Array): string {
  if (bytes.byteLength > 0) {
    try {
      const text = utf8.decode(bytes);
      if (!text.startsWith(BINARY_MARK)) return text;
    } catch {
      // not UTF-8: stored as base64 below
    }
  }
  return BINARY_MARK + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function decodeValue(text: string): Uint8Array {
  const bytes = text.startsWith(BINARY_MARK) ? Buffer.from(text.slice(1), 'base64') : Buffer.from(text, 'utf8');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
