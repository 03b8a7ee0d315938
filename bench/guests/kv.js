// kv: the KV benchmark's guest. The sub-path picks the operation and `?n=K` repeats it K times in
// one call, so (time of K operations − time of K no-ops) / K is the in-function cost of one.
//   /none  nothing (the baseline: HTTP, invocation and a JS guest's own cost)
//   /get   get of an existing item          /set   set of one item (committed when the call returns)
//   /scan  scan of 10 items from k0         /seed  writes k0..k9 (call once before measuring)

import { get, scan, set } from 'enoki:faas/kv@0.1.0';

const encoder = new TextEncoder();

function text(status, body) {
  return { status, headers: [['content-type', 'text/plain; charset=utf-8']], body: encoder.encode(body) };
}

export const handler = {
  handle(req) {
    const n = Number(/(?:^|&)n=(\d+)/.exec(req.query)?.[1] ?? '1');
    let out = '';
    for (let i = 0; i < n; i++) {
      switch (req.path) {
        case '/none':
          break;
        case '/get':
          out = get('k0') ?? '';
          break;
        case '/set':
          set('w', String(i + 1));
          break;
        case '/scan':
          out = String(scan('k0', 10).length);
          break;
        case '/seed':
          for (let k = 0; k < 10; k++) set(`k${k}`, `value${k}`);
          break;
        default:
          return text(404, `unknown operation ${req.path}\n`);
      }
    }
    return text(200, out);
  },
};
