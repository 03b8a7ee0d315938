// movingaverage: the Enoki paper's benchmark function, ported from OpenFogStack/enoki
// functions/4_movingaverage/fn.py: the mean of the last WINDOW values posted, kept in the keygroup.
//
// Body "{thread}-{value}" (or just "{value}"). Each thread t keeps a ring of WINDOW values under
// ids p0..p9, where p is the letter chr(t + 'b'), and a pointer "aaaacurr" + p whose value is the
// id of the next slot to write. Without a thread the pointer is "aaaacurr" and the prefix "data".
// One call is 4 KV operations: get the pointer, scan the ring, set the slot, set the pointer
// (a first call also sets the pointer once when it is missing).

import { get, scan, set } from 'enoki:faas/kv@0.1.0';
import { write as log } from 'enoki:faas/log@0.1.0';

const POINTER = 'aaaacurr';
const PREFIX = 'data';
const WINDOW = 10;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function text(status, body) {
  return { status, headers: [['content-type', 'text/plain; charset=utf-8']], body: encoder.encode(body) };
}

/** The text of a failed KV call (its payload is the WIT kv-error); anything else is a bug: rethrow. */
function kvError(e) {
  if (e?.payload?.tag) return `${e.payload.tag}: ${e.payload.val}`;
  throw e;
}

/** { pointer, prefix, value } from the body, or a string saying what is wrong with it. */
function parseInput(body) {
  const threaded = /^\s*([+-]?\d+)-([+-]?\d+)\s*$/.exec(body);
  if (threaded) {
    const p = String.fromCharCode(Number(threaded[1]) + 'b'.charCodeAt(0));
    if (!/^[a-zA-Z0-9]$/.test(p)) return `thread ${threaded[1]} gives the id letter ${JSON.stringify(p)}: use threads 0 to 24`;
    return { pointer: POINTER + p, prefix: p, value: Number(threaded[2]) };
  }
  const plain = /^\s*([+-]?\d+)\s*$/.exec(body);
  if (plain) return { pointer: POINTER, prefix: PREFIX, value: Number(plain[1]) };
  return `expected a body "{thread}-{value}" or "{value}" with integers, got ${JSON.stringify(body.slice(0, 40))}`;
}

export const handler = {
  handle(req) {
    const input = parseInput(decoder.decode(req.body));
    if (typeof input === 'string') return text(400, input + '\n');
    const { pointer, prefix, value } = input;

    // (1) The pointer's value is prefix + the slot to write next. The original read it with
    // kv.read and took the first sibling; `get` picks the sibling every replica agrees on.
    let curr = NaN;
    try {
      const stored = get(pointer);
      const slot = stored?.startsWith(prefix) ? stored.slice(prefix.length) : '';
      if (/^\d+$/.test(slot)) curr = Number(slot);
    } catch (e) {
      log('warn', `could not read pointer ${pointer}: ${kvError(e)}`);
    }
    if (Number.isNaN(curr)) {
      // No pointer yet (or an unreadable one): start the ring over, as the original did.
      try {
        set(pointer, prefix + '0');
      } catch (e) {
        log('error', `failed to update pointer ${pointer} to ${prefix}0: ${kvError(e)}`);
      }
      curr = 0;
    }
    if (curr >= WINDOW) curr = 0;

    // (2) The ring's values. `scan` needs an existing start id: before the first write there is
    // no prefix0 (not-found), which is "no values yet", like the original's exception path.
    // The original took every id the scan returned, running past this thread's ring into the
    // next thread's (or the default "data") ids when the ring had fewer than WINDOW values;
    // only ids of the form prefix + digits belong to this ring.
    let values = [];
    try {
      const ring = new RegExp(`^${prefix}\\d+$`);
      values = scan(prefix + '0', WINDOW)
        .filter((entry) => ring.test(entry.id))
        .map((entry) => Number(entry.value));
    } catch (e) {
      const reason = kvError(e);
      if (e.payload.tag !== 'not-found') log('warn', `failed to scan ${WINDOW} values from ${prefix}0: ${reason}`);
    }

    // Put the new value at slot curr, or append it when the ring is shorter than that.
    if (values.length > curr) values[curr] = value;
    else values.push(value);
    const mean = values.reduce((sum, v) => sum + v, 0) / values.length;

    // (3) Store the value in its slot, (4) advance the pointer.
    try {
      set(prefix + String(curr), String(value));
    } catch (e) {
      log('error', `failed to write value ${value} to ${prefix}${curr}: ${kvError(e)}`);
    }
    try {
      set(pointer, prefix + String(curr + 1));
    } catch (e) {
      log('error', `failed to update pointer ${pointer} to ${prefix}${curr + 1}: ${kvError(e)}`);
    }

    return text(200, String(mean));
  },
};
