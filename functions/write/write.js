// write: the Enoki paper's write benchmark function, ported from OpenFogStack/enoki
// functions/3_write/fn.py. Body "{thread}-{bytes}" (the thread part is ignored; the default size
// is 1024). Each call stores {bytes} letters "a" under a new random id (a version-4 UUID without
// dashes) and answers that id. One KV operation per call.
//
// The id comes from crypto.getRandomValues. Built with WASI's `random` feature off (as
// `npm run build:functions` builds the examples), componentize-js makes it deterministic: every
// instance draws the same sequence, so two warm instances write the same ids (overwriting, not
// adding). Build it with `--feature random` for unique ids; bench/paper/ does.

import { set } from 'enoki:faas/kv@0.1.0';

const LEN_BYTES = 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function text(status, body) {
  return { status, headers: [['content-type', 'text/plain; charset=utf-8']], body: encoder.encode(body) };
}

/** uuid.uuid4().hex: 32 hex digits with the version (4) and variant (10xx) bits set. */
function uuid4Hex() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export const handler = {
  handle(req) {
    const input = decoder.decode(req.body);
    let lenBytes = LEN_BYTES;
    const parts = input === '' ? [] : input.split('-');
    if (parts.length > 1) {
      // Python's int(): the original failed the call (500) on anything else.
      if (!/^\s*[+-]?\d+\s*$/.test(parts[1])) throw `invalid size ${JSON.stringify(parts[1].slice(0, 40))}`;
      lenBytes = Number(parts[1]);
    }
    const key = uuid4Hex();
    try {
      // A size of 0 or less gives an empty value, which the keygroup refuses: a 500.
      set(key, 'a'.repeat(Math.max(0, lenBytes)));
    } catch (e) {
      if (e?.payload?.tag) throw `writing failed: ${e.payload.tag}: ${e.payload.val}`;
      throw e;
    }
    return text(200, key);
  },
};
