// The emulated network of the paper's experiments: where each party sits, the one-way delay
// between two sites, and the delay proxies, which run on a worker thread of their own so that
// their polling (see delay-proxy.ts) and copying never wait behind the load generator's work.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { DelayScheduler, startConnectProxy, startDelayProxy, type Endpoint, type RunningProxy } from './delay-proxy.js';

export type Site = 'client' | 'edge1' | 'edge2' | 'cloud';

/** One-way delays of the paper's setup, ms (run-replication.sh: tc netem on each VM). */
export const PAPER_DELAYS = { clientEdge: 1, edgeEdge: 10, edgeCloud: 25, clientCloud: 25 } as const;

export type Delays = { [K in keyof typeof PAPER_DELAYS]: number };

/** One-way delay between two sites, ms; 0 within a site. */
export function oneWay(a: Site, b: Site, delays: Delays = PAPER_DELAYS): number {
  if (a === b) return 0;
  const kinds = [a, b].map((s) => (s === 'client' ? 'client' : s === 'cloud' ? 'cloud' : 'edge')).sort().join('-');
  switch (kinds) {
    case 'client-edge':
      return delays.clientEdge;
    case 'client-cloud':
      return delays.clientCloud;
    case 'edge-edge':
      return delays.edgeEdge;
    default: // cloud-edge
      return delays.edgeCloud;
  }
}

/** One-way delay along a path of sites, e.g. client → edge2 → edge1. */
export function pathDelay(sites: Site[], delays: Delays = PAPER_DELAYS): number {
  let total = 0;
  for (let i = 1; i < sites.length; i++) total += oneWay(sites[i - 1], sites[i], delays);
  return total;
}

type Request =
  | { op: 'tcp'; target: Endpoint; delayMs: number }
  | { op: 'connect'; delaysByPort: Record<number, number>; otherMs: number }
  | { op: 'stats'; reset?: boolean };

export interface ProxyStats {
  /** Chunks (and stream ends) delivered. */
  jobs: number;
  /** How much later than due they were delivered, ms. */
  p50: number;
  p99: number;
  max: number;
}

/** The proxies of one experiment; close() ends them all and the thread. */
export class Network {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const waiter = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error !== undefined) waiter?.reject(new Error(m.error));
      else waiter?.resolve(m.result);
    });
    worker.on('error', (err: Error) => {
      for (const w of this.pending.values()) w.reject(err);
      this.pending.clear();
    });
  }

  static async start(): Promise<Network> {
    const worker = new Worker(new URL(import.meta.url), { workerData: { paperNetwork: true } });
    await new Promise<void>((resolve, reject) => {
      worker.once('online', () => resolve());
      worker.once('error', reject);
    });
    return new Network(worker);
  }

  /** A link from whoever connects to the returned port to `target`, delayMs each way. */
  async link(target: Endpoint, delayMs: number): Promise<number> {
    return (await this.call({ op: 'tcp', target, delayMs })) as number;
  }

  /**
   * An HTTP CONNECT proxy for one site's outgoing gRPC traffic: a tunnel to 127.0.0.1:port gets
   * delaysByPort[port] each way, any other destination otherMs.
   */
  async egress(delaysByPort: Record<number, number>, otherMs = 0): Promise<number> {
    return (await this.call({ op: 'connect', delaysByPort, otherMs })) as number;
  }

  /** Delivery lateness of every proxy so far (or since the last reset). */
  async stats(reset = false): Promise<ProxyStats> {
    return (await this.call({ op: 'stats', reset })) as ProxyStats;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private call(request: Request): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, request });
    });
  }
}

if (!isMainThread && (workerData as { paperNetwork?: boolean } | undefined)?.paperNetwork) {
  // One scheduler for every link, so the earliest delivery of all decides when the thread wakes.
  const scheduler = new DelayScheduler();
  const proxies: RunningProxy[] = [];
  const handle = async (request: Request): Promise<unknown> => {
    switch (request.op) {
      case 'tcp': {
        const proxy = await startDelayProxy({ target: request.target, delayMs: request.delayMs, scheduler });
        proxies.push(proxy);
        return proxy.port;
      }
      case 'connect': {
        const { delaysByPort, otherMs } = request;
        const proxy = await startConnectProxy({ delayFor: (_host, port) => delaysByPort[port] ?? otherMs, scheduler });
        proxies.push(proxy);
        return proxy.port;
      }
      case 'stats': {
        const stats = scheduler.stats();
        if (request.reset) scheduler.resetStats();
        return stats;
      }
    }
  };
  parentPort!.on('message', ({ id, request }: { id: number; request: Request }) => {
    handle(request).then(
      (result) => parentPort!.postMessage({ id, result }),
      (err: Error) => parentPort!.postMessage({ id, error: err.message }),
    );
  });
}
