// GET /openapi.json: the document of this API, public like the routes it describes are discoverable.

import { Hono } from 'hono';
import { openApiDocument } from './document.js';

export function openApiRoutes(): Hono {
  const app = new Hono();
  const body = JSON.stringify(openApiDocument());
  app.get('/openapi.json', (c) => c.body(body, 200, { 'content-type': 'application/json; charset=UTF-8', 'cache-control': 'no-cache' }));
  return app;
}
