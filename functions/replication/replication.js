// replication: the function of the Enoki paper's replication experiment, ported from
// OpenFogStack/enoki functions/6_replication/fn.py. A request with a body writes the body to the
// item "counter" and answers 200 with an empty body; a request without one reads the item and
// answers its value, or "No value yet". One KV operation per call.
//
// The experiment writes on one node and reads on another, so a read shows how far the reader's
// replica trails the writer's.

import { get, set } from 'enoki:faas/kv@0.1.0';

const KEY = 'counter';

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
    if (input === '') {
      // A read. The original took the first of the item's siblings in FReD's order; `get` picks
      // the one every replica picks, so two replicas holding the same siblings answer alike.
      let value;
      try {
        value = get(KEY);
      } catch (e) {
        kvError(e); // rethrows anything that is not a KV error
        return text(200, 'No value yet'); // the original's answer to any failed read
      }
      return text(200, value ?? 'No value yet');
    }
    try {
      set(KEY, input);
    } catch (e) {
      throw `failed to write ${KEY}: ${kvError(e)}`;
    }
    return { status: 200, headers: [], body: new Uint8Array(0) };
  },
};
