// GET /console: the web console, static files served from runtime/http/console/ as they are in
// the source tree (no build step; tsc does not copy them, so dist/ reads them from there, as it
// reads wit/). The page holds no data: it asks for the admin token, keeps it in the tab's
// sessionStorage and sends it as a bearer header to the API routes — never in a URL.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { EnokiError } from '../errors.js';

/** runtime/http/console in the sources, seen from runtime/http or dist/runtime/http. */
export const CONSOLE_DIR = (() => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const parts = here.split(path.sep);
  const dist = parts.lastIndexOf('dist');
  const root = dist >= 0 && parts.slice(dist + 1).join('/') === 'runtime/http' ? parts.slice(0, dist).join(path.sep) : path.resolve(here, '..', '..');
  return path.join(root, 'runtime', 'http', 'console');
})();

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=UTF-8',
  '.js': 'text/javascript; charset=UTF-8',
  '.css': 'text/css; charset=UTF-8',
  '.svg': 'image/svg+xml',
};

/** Scripts and styles only from the node itself, and no inline script: a value shown never runs. */
const HEADERS = {
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
};

function load(dir: string): Map<string, { body: Buffer; type: string }> {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[path.extname(name)];
    if (type) files.set(name, { body: readFileSync(path.join(dir, name)), type });
  }
  if (!files.has('index.html')) throw new Error(`the console's index.html is missing from ${dir}`);
  return files;
}

export function consoleRoutes(dir = CONSOLE_DIR): Hono {
  // Read once at start: a handful of small files.
  const files = load(dir);
  const app = new Hono();
  const send = (name: string) => {
    const file = files.get(name);
    if (!file) throw new EnokiError('ERR_ROUTE_NOT_FOUND', `the console has no file ${JSON.stringify(name.slice(0, 80))}`);
    return new Response(new Uint8Array(file.body), { status: 200, headers: { ...HEADERS, 'content-type': file.type } });
  };
  app.get('/console', () => send('index.html'));
  app.get('/console/*', (c) => send(c.req.path.slice('/console/'.length) || 'index.html'));
  return app;
}
