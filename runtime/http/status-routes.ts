// What the node is doing, as JSON for the console and scripts: metrics at a glance (beside the
// Prometheus text of GET /metrics) and, under the admin token, the cluster view.

import { Hono } from 'hono';
import type { ClusterView } from '../observe/cluster-view.js';
import type { Metrics } from '../observe/metrics.js';
import { requireAdmin } from './auth.js';

export interface StatusRouteDeps {
  nodeId: string;
  metrics: Metrics;
  /** The gauges of GET /metrics (enoki_workers, enoki_warm_instance_memory_bytes, …). */
  gauges: () => Record<string, number>;
  cluster: ClusterView;
  adminToken: string;
}

export function statusRoutes(deps: StatusRouteDeps): Hono {
  const app = new Hono();
  app.get('/metrics.json', (c) => {
    const g = deps.gauges();
    const memory = process.memoryUsage();
    const { uptimeSeconds, functions } = deps.metrics.snapshot();
    return c.json({
      nodeId: deps.nodeId,
      uptimeSeconds,
      node: {
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        warmInstances: g.enoki_warm_instances ?? 0,
        warmInstanceMemoryBytes: g.enoki_warm_instance_memory_bytes ?? 0,
        workers: g.enoki_workers ?? 0,
        workersBusy: g.enoki_workers_busy ?? 0,
        queueLength: g.enoki_queue_length ?? 0,
        asyncInvocations: g.enoki_async_invocations ?? 0,
      },
      functions,
    });
  });
  app.get('/cluster', requireAdmin(deps.adminToken), async (c) => c.json(await deps.cluster.status()));
  return app;
}
