// Installs the server's own Headers and Response as the process's globals, which Hono builds its
// responses with. Node's own ones come from undici, loaded at their first use and held from then
// on (some 15 MiB on Node 24, a fifth of an idle node); fetch() keeps undici's, loaded when called.

import { FetchHeaders } from './fetch-headers.js';
import { FetchResponse } from './fetch-response.js';

let installed = false;

export function installFetchGlobals(): void {
  // (Not by comparing with globalThis.Response: reading Node's own loads undici.)
  if (installed) return;
  installed = true;
  for (const [name, value] of [
    ['Headers', FetchHeaders],
    ['Response', FetchResponse],
  ] as const) {
    // Deleted first: defining over Node's lazy property would load undici to read it.
    delete (globalThis as Record<string, unknown>)[name];
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  }
}
