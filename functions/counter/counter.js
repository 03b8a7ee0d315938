// counter: a persistent counter in the function's keygroup; GET or POST adds one, DELETE resets it.
// The increment is atomic (one call that reads and writes on the replica), so concurrent calls
// never lose a count, and it is stored before the call returns.

import { increment } from 'enoki:faas/atomics@0.1.0';
import { delete as remove } from 'enoki:faas/kv@0.1.0';

const encoder = new TextEncoder();
const KEY = 'count';

function text(status, body, headers = []) {
  return { status, headers: [['content-type', 'text/plain; charset=utf-8'], ...headers], body: encoder.encode(body) };
}

function route(req) {
  switch (req.method) {
    case 'GET':
    case 'POST':
      // s64 arguments and results are BigInts in JS.
      return text(200, String(increment(KEY, 1n)));
    case 'DELETE':
      try {
        remove(KEY);
      } catch (e) {
        // Resetting a counter that was never set (or is already reset) is not an error.
        if (e?.payload?.tag !== 'not-found') throw e;
      }
      return text(200, '0');
    default:
      return text(405, `${req.method} is not supported: GET or POST counts, DELETE resets\n`, [['allow', 'GET, POST, DELETE']]);
  }
}

export const handler = {
  handle(req) {
    try {
      return route(req);
    } catch (e) {
      // A failed KV call arrives as an error whose payload is the WIT kv-error ({ tag, val });
      // a thrown string becomes the `err` result (a 500 carrying the message).
      if (e?.payload?.tag) throw `kv ${e.payload.tag}: ${e.payload.val}`;
      throw e;
    }
  },
};
