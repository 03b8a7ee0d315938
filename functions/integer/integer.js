// integer: the Enoki paper's counter function, ported from OpenFogStack/enoki
// functions/1_integer/fn.py. Each call adds one to a counter in the keygroup and answers the new
// value. The body is optional: "{thread}" or "{thread}-{anything}" picks the counter
// "counter{thread}", an empty body the counter "counter". Two KV operations: read, then set.

import { read, set } from 'enoki:faas/kv@0.1.0';
import { write as log } from 'enoki:faas/log@0.1.0';

const KEY = 'counter';

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

/** Python's int() of a string: optional sign and surrounding whitespace, digits only. */
function pythonInt(s) {
  return /^\s*[+-]?\d+\s*$/.test(s) ? Number(s) : NaN;
}

export const handler = {
  handle(req) {
    const input = decoder.decode(req.body);
    // As the original: everything before the first "-" names the counter.
    const key = KEY + (input === '' ? '' : input.split('-')[0]);
    if (!/^[a-zA-Z0-9]+$/.test(key)) return text(400, `the thread part must be letters and digits, got ${JSON.stringify(key.slice(KEY.length, 40))}\n`);

    // Every sibling's value: concurrent increments on two replicas leave two.
    let values = [];
    try {
      values = read(key).map((item) => item.value);
    } catch (e) {
      log('warn', `could not read ${key}: ${kvError(e)}`);
    }
    if (values.length === 0) {
      log('info', 'counter is not defined, reset to 0');
      values = ['0'];
    }

    // The original took max() of the value strings, which compares text: of "9" and "10" it kept
    // "9". Compare as numbers; a value that is not an integer counts as 0, as it did there.
    if (values.length !== 1) log('info', `have ${values.length} counters, choosing max`);
    const numbers = values.map(pythonInt);
    if (numbers.some(Number.isNaN)) log('warn', 'counter is not an integer, reset to 0');
    const count = Math.max(...numbers.map((n) => (Number.isNaN(n) ? 0 : n))) + 1;

    try {
      set(key, String(count));
    } catch (e) {
      // The original let the exception escape: the caller got a 500.
      throw `failed to update ${key}: ${kvError(e)}`;
    }
    return text(200, String(count));
  },
};
