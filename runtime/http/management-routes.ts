// Management API: deploy, list, describe, roll back and delete functions, and read their logs.

import { Hono } from 'hono';
import { EnokiError } from '../errors.js';
import type { DeployOptions, FunctionService } from '../functions/function-service.js';
import type { InvocationLogs } from '../observe/invocation-logs.js';
import { requireAdmin } from './auth.js';
import { queryOnce, tooLarge } from './respond.js';
import { limitBody } from './server/limit-body.js';

function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  // Digits only: Number() would read "" as 0 and " 7 " or "1e3" as numbers too.
  const n = Number(value);
  if (!/^-?\d{1,15}$/.test(value)) throw new EnokiError('ERR_INVALID_OPTION', `${name} must be an integer, got "${value.slice(0, 80)}"`);
  return n;
}

/** true/1 or false/0; anything else is refused rather than read as false (purge=yes must not silently keep data). */
function boolOption(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new EnokiError('ERR_INVALID_OPTION', `${name} must be true, false, 1 or 0, got "${value.slice(0, 80)}"`);
}

/**
 * Deploy options come as query parameters: keygroup, immutable, kvNode, timeoutMs, memoryMiB,
 * env=K=V, allowHost=HOST (repeated; outgoing HTTP of wasi:http functions).
 */
function deployOptions(query: (name: string) => string | undefined, queries: (name: string) => string[] | undefined): DeployOptions {
  const env: Record<string, string> = {};
  for (const pair of queries('env') ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new EnokiError('ERR_INVALID_OPTION', `env must be KEY=VALUE, got "${pair}"`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    keygroup: query('keygroup'),
    kvNode: query('kvNode'),
    immutable: boolOption(query('immutable'), 'immutable'),
    timeoutMs: intOption(query('timeoutMs'), 'timeoutMs'),
    memoryMiB: intOption(query('memoryMiB'), 'memoryMiB'),
    env,
    allowedHosts: queries('allowHost') ?? [],
  };
}

export function managementRoutes(deps: {
  functions: FunctionService;
  logs: InvocationLogs;
  adminToken: string;
  maxComponentBytes: number;
}): Hono {
  const { functions, logs } = deps;
  const app = new Hono();
  app.use('*', requireAdmin(deps.adminToken));

  app.put(
    '/:name',
    limitBody(deps.maxComponentBytes, () => tooLarge(deps.maxComponentBytes, 'the component')),
    async (c) => {
      const name = c.req.param('name');
      const options = deployOptions((n) => queryOnce(c, n), (n) => c.req.queries(n));
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      if (bytes.length === 0) throw new EnokiError('ERR_BAD_REQUEST', 'send the component bytes as the request body');
      const isNew = !functions.list().some((f) => f.name === name);
      const version = await functions.deploy(name, bytes, options);
      return c.json(
        { name, version: version.id, digest: version.digest, size: version.size, world: version.world, options: version.options, unchanged: version.unchanged },
        isNew ? 201 : 200,
      );
    },
  );

  app.get('/', (c) =>
    c.json({
      functions: functions.list().map((f) => {
        const active = f.versions.find((v) => v.id === f.active);
        return { name: f.name, version: f.active, keygroup: active?.options.keygroup, size: active?.size, deployedAt: active?.deployedAt };
      }),
    }),
  );

  app.get('/:name', (c) => c.json(functions.describe(c.req.param('name'))));

  app.delete('/:name', async (c) => {
    const purge = boolOption(queryOnce(c, 'purge'), 'purge') ?? false;
    const result = await functions.remove(c.req.param('name'), purge);
    return c.json({ name: c.req.param('name'), deleted: true, dataPurged: result.purged });
  });

  app.post('/:name/rollback', async (c) => {
    let versionId: string | undefined;
    const text = await c.req.text();
    if (text.trim() !== '') {
      const bad = () => new EnokiError('ERR_BAD_REQUEST', 'the rollback body must be JSON like {"version":"v1"}, or empty');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw bad();
      }
      // Only an object whose version, if any, is a string: [] or {"version":5} are not a rollback.
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad();
      const { version } = body as { version?: unknown };
      if (version !== undefined && typeof version !== 'string') throw bad();
      versionId = version;
    }
    versionId ??= queryOnce(c, 'version');
    const version = await functions.rollback(c.req.param('name'), versionId);
    return c.json({ name: c.req.param('name'), version: version.id });
  });

  // Newest entries first page; `next` is the `before` of the page of older ones.
  app.get('/:name/logs', (c) => {
    const name = c.req.param('name');
    functions.describe(name);
    const limit = intOption(queryOnce(c, 'limit'), 'limit');
    const before = intOption(queryOnce(c, 'before'), 'before');
    if ((limit !== undefined && limit < 0) || (before !== undefined && before < 1)) {
      throw new EnokiError('ERR_INVALID_OPTION', 'limit must be ≥ 0 and before ≥ 1');
    }
    const page = logs.page(name, { limit, before });
    return c.json({ name, kept: logs.perFunction, ...page });
  });

  return app;
}
