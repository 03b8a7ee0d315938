// read: the Enoki paper's read benchmark function, ported from OpenFogStack/enoki
// functions/2_read/fn.py. Body "{thread}-{bytes}" (both optional; the default size is 1024).
// It reads the item "data{thread}" and answers "read"; when the item does not exist yet it writes
// {bytes} letters "a" under that id and answers "write". One KV operation per call after the first.

import { read, set } from 'enoki:faas/kv@0.1.0';
import { write as log } from 'enoki:faas/log@0.1.0';

const KEY = 'data';
const LEN_BYTES = 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function text(status, body) {
  return { status, headers: [['content-type', 'text/plain; charset=utf-8']], body: encoder.encode(body) };
}

function kvError(e) {
  if (e?.payload?.tag) return `${e.payload.tag}: ${e.payload.val}`;
  throw e;
}

export const handler = {
  handle(req) {
    const input = decoder.decode(req.body);
    let key = KEY;
    let lenBytes = LEN_BYTES;
    if (input !== '') {
      const parts = input.split('-');
      key += parts[0];
      if (parts.length > 1) {
        // Python's int(): the original failed the call (500) on anything else.
        if (!/^\s*[+-]?\d+\s*$/.test(parts[1])) throw `invalid size ${JSON.stringify(parts[1].slice(0, 40))}`;
        lenBytes = Number(parts[1]);
      }
    }
    if (!/^[a-zA-Z0-9]+$/.test(key)) return text(400, `the thread part must be letters and digits, got ${JSON.stringify(key.slice(KEY.length, 40))}\n`);

    // The value is read (and copied into the guest) but not used, as in the original: the call
    // measures the read path. An absent item is an empty list here where FReD raised.
    let found = false;
    try {
      found = read(key).length > 0;
    } catch (e) {
      log('warn', `could not read ${key}: ${kvError(e)}`);
    }
    if (found) return text(200, 'read');

    log('info', 'data is not defined, writing now');
    try {
      // A size of 0 or less gives an empty value, which the keygroup refuses (invalid-value):
      // the call fails with a 500.
      set(key, 'a'.repeat(Math.max(0, lenBytes)));
    } catch (e) {
      throw `writing failed: ${kvError(e)}`;
    }
    return text(200, 'write');
  },
};
