// The node's HTTP surface: health, metrics, management and invocation routes, the OpenAPI document
// and the console, JSON errors.

import { Hono } from 'hono';
import { EnokiError } from '../errors.js';
import type { FunctionService } from '../functions/function-service.js';
import type { AsyncInvocations } from '../invoke/async-invocations.js';
import type { Invoker } from '../invoke/invoker.js';
import type { InvocationLogs } from '../observe/invocation-logs.js';
import type { ClusterView } from '../observe/cluster-view.js';
import type { Metrics } from '../observe/metrics.js';
import type { CallTrust } from './call-trust.js';
import { consoleRoutes } from './console-routes.js';
import { invocationRoutes } from './invocation-routes.js';
import { keygroupRoutes, type KeygroupRouteDeps } from './keygroup-routes.js';
import { managementRoutes } from './management-routes.js';
import { openApiRoutes } from './openapi/openapi-routes.js';
import { errorResponse } from './respond.js';
import type { ResultAccess } from './result-access.js';
import { statusRoutes } from './status-routes.js';

export interface AppDeps {
  nodeId: string;
  functions: FunctionService;
  invoker: Invoker;
  async: AsyncInvocations;
  access: ResultAccess;
  trust: CallTrust;
  /** Whether the worker queue takes another invocation now. */
  hasRoom: () => boolean;
  /** What the node still waits for before it can serve what it was started with (empty: ready). */
  readiness: () => string[];
  logs: InvocationLogs;
  metrics: Metrics;
  gauges: () => Record<string, number>;
  adminToken: string;
  maxBodyBytes: number;
  maxComponentBytes: number;
  maxCallDepth: number;
  kv: KeygroupRouteDeps;
  /** Members, peers and replication lag (GET /cluster). */
  cluster: ClusterView;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.onError((err, c) => errorResponse(c, err));
  app.notFound((c) => errorResponse(c, new EnokiError('ERR_ROUTE_NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`)));

  // Liveness: the process answers. Readiness: it can serve what it was started with.
  app.get('/healthz', (c) => c.json({ status: 'ok', nodeId: deps.nodeId, functions: deps.functions.list().length }));
  app.get('/readyz', (c) => {
    const waiting = deps.readiness();
    const body = { status: waiting.length === 0 ? 'ready' : 'not ready', nodeId: deps.nodeId, functions: deps.functions.list().length };
    return waiting.length === 0 ? c.json(body) : c.json({ ...body, waitingFor: waiting }, 503);
  });
  app.get('/metrics', (c) => c.text(deps.metrics.render(deps.gauges()), 200, { 'content-type': 'text/plain; version=0.0.4' }));
  app.route('/', statusRoutes({ nodeId: deps.nodeId, metrics: deps.metrics, gauges: deps.gauges, cluster: deps.cluster, adminToken: deps.adminToken }));
  // Every route is described in openapi/operations.ts (a test holds the two together).
  app.route('/', openApiRoutes());
  app.route('/', consoleRoutes());
  app.route('/functions', managementRoutes(deps));
  app.route('/keygroups', keygroupRoutes({ ...deps.kv, adminToken: deps.adminToken, maxBodyBytes: deps.maxBodyBytes }));
  app.route(
    '/',
    invocationRoutes({
      invoker: deps.invoker,
      async: deps.async,
      access: deps.access,
      trust: deps.trust,
      exists: (name) => deps.functions.exists(name),
      hasRoom: deps.hasRoom,
      maxBodyBytes: deps.maxBodyBytes,
      maxCallDepth: deps.maxCallDepth,
    }),
  );
  return app;
}
