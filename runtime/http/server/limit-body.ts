// A request body size limit for routes that read the body whole (a component, a keygroup value).
// Over the node's server the request reads its body within the limit itself; under other adapters
// (app.request in tests) the body is read here, chunk by chunk, and handed on.

import type { MiddlewareHandler } from 'hono';
import { wholeBuffer } from './fetch-response.js';
import { NodeRequest } from './node-request.js';

export function limitBody(maxBytes: number, tooLarge: () => Error): MiddlewareHandler {
  return async (c, next) => {
    const declared = c.req.header('content-length');
    if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge();
    const raw = c.req.raw as unknown;
    if (raw instanceof NodeRequest) {
      raw.maxBodyBytes = maxBytes;
      raw.bodyTooLarge = tooLarge;
      return next();
    }
    const body = c.req.raw.body;
    if (body) {
      const chunks: Uint8Array[] = [];
      let size = 0;
      for await (const chunk of body) {
        size += chunk.byteLength;
        if (size > maxBytes) throw tooLarge();
        chunks.push(chunk);
      }
      const bytes = Buffer.concat(chunks, size);
      // Hono keeps promises of bodies there (its type names the bodies), and reads them from it.
      (c.req.bodyCache as Record<string, unknown>).arrayBuffer = Promise.resolve(wholeBuffer(bytes));
    }
    return next();
  };
}
