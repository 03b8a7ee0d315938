// GET /openapi.json: the document of this API, public like the routes it describes are discoverable.
// Made at its first request rather than at start: most nodes are never asked for it, and the
// serialised document (~200 KB) would stay on the heap of every one of them.

import { Hono } from 'hono';
import { openApiDocument } from './document.js';

export function openApiRoutes(): Hono {
  const app = new Hono();
  let body: string | undefined;
  app.get('/openapi.json', (c) => c.body((body ??= JSON.stringify(openApiDocument())), 200, { 'content-type': 'application/json; charset=UTF-8', 'cache-control': 'no-cache' }));
  return app;
}
