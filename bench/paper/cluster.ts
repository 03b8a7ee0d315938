// The paper's deployment on one machine: etcd (TLS), the nodes edge1, edge2 and cloud as child
// processes, and the emulated links between them and the client.
//
// How the links are made without changing the runtime: a node registers its own peering and
// client API ports in etcd (it cannot advertise another port), so no proxy can sit in front of
// those ports. Instead each node's outgoing gRPC goes through an HTTP CONNECT proxy of its own
// (grpc-js honours `grpc_proxy`), which knows the node it belongs to and so applies the delay of
// the link to each destination: edge1 → edge2 10 ms, edge → cloud 25 ms, each way. The client
// reaches nodes' HTTP APIs through plain delay proxies (client ↔ edge 1 ms, client ↔ cloud 25 ms,
// or a path of links such as client → edge2 → edge1). Under the bench's Pi-class profile
// (BENCH_NODES_CGROUP_PROCS, see bench/suite/cgroup.ts) every node is started in the given cgroup.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCertsCommand } from '../../replication/security/certs-cli.js';
import { findOrInstallEtcd, freePorts, startLocalEtcd, type LocalEtcd } from '../../runtime/cluster/local-etcd.js';
import { spawnNode, type NodeProcess } from '../../runtime/cli/node-process.js';
import { summarize } from '../stats.js';
import { nodesCgroup, startInside, verifyJoined } from '../suite/cgroup.js';
import type { HttpClient } from './load.js';
import { Network, PAPER_DELAYS, oneWay, pathDelay, type Delays, type Site } from './network.js';

export type NodeSite = Exclude<Site, 'client'>;

const ROOT = fileURLToPath(new URL('../../../', import.meta.url)); // from dist/bench/paper/
const BUILT = path.join(ROOT, 'functions', 'build');
const TOKEN = 'paper-bench';

export interface PaperClusterOptions {
  /** Nodes to start, in this order (a node named as another's cloudNode must come first). */
  nodes: NodeSite[];
  /** ENOKI_CLOUD_NODE per node: the paper's simple and scale runs had none (one replica). */
  cloudNode?: Partial<Record<NodeSite, NodeSite>>;
  /** FReD ran with --peer-async-replication in the replication experiment, sync otherwise. */
  replicationMode?: 'sync' | 'async';
  delays?: Delays;
  /**
   * One-way delay between every node and etcd, ms. The paper's etcd ran on the cloud VM; nodes
   * read it from a watched cache, so only setup (keygroups, membership) would pay it: 0 keeps
   * setup fast and changes no measured request.
   */
  etcdDelayMs?: number;
  /** Extra environment for every node (e.g. ENOKI_WORKERS). */
  env?: NodeJS.ProcessEnv;
  /**
   * Extra environment for one node, computed just before it starts: `link(to)` is the URL of the
   * HTTP API of `to` (a node started earlier) through the emulated link from this node.
   */
  nodeEnv?: (site: NodeSite, link: (to: NodeSite) => Promise<string>) => Promise<NodeJS.ProcessEnv>;
}

export interface PaperCluster {
  readonly network: Network;
  readonly nodes: Record<NodeSite, NodeProcess>;
  /** Where logs and data are, kept when a run fails. */
  readonly dir: string;
  /**
   * URL of `node`'s HTTP API for a client whose requests travel the given path of sites, e.g.
   * ['client', 'edge2', 'edge1']; by default the direct link client → node.
   */
  url(node: NodeSite, via?: Site[]): Promise<string>;
  /**
   * What a proxied link costs beyond its configured delay: sequential GET /healthz on `node`
   * directly and through a link of 0 ms, p50 of each (ms). Half the difference is the overhead
   * of one direction (a loopback hop through the proxy thread).
   */
  linkOverhead(node: NodeSite, client: HttpClient, samples?: number): Promise<{ directP50: number; proxiedP50: number; perDirectionMs: number }>;
  /**
   * Deploys `name` on `node` with its data in `keygroup`; with kvNode the keygroup stays on that
   * node and every KV call of the function crosses the link to it (the paper's dockerkv backend
   * with DOCKERKV_HOST pointing at another node's FReD).
   */
  deploy(node: NodeSite, name: string, wasm: Uint8Array, keygroup: string, options?: { kvNode?: NodeSite }): Promise<void>;
  /** The node's record of the last invocations of `name` (GET /functions/{name}/logs). */
  invocationLogs(node: NodeSite, name: string, limit?: number): Promise<Array<{ invocationId: string; at: string; durationMs: number; status: number }>>;
  remove(node: NodeSite, name: string): Promise<void>;
  stop(options?: { keepFiles?: boolean }): Promise<void>;
}

/** A built example function (functions/build/<name>.wasm). */
export async function builtFunction(name: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await fs.readFile(path.join(BUILT, `${name}.wasm`)));
  } catch {
    throw new Error(`functions/build/${name}.wasm is missing: run \`npm run build:functions\``);
  }
}

export async function startPaperCluster(options: PaperClusterOptions): Promise<PaperCluster> {
  const delays = options.delays ?? PAPER_DELAYS;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-paper-'));
  const certs = path.join(dir, 'certs');
  const cleanup: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    cleanup.length = 0;
  };
  try {
    await runCertsCommand({ dir: certs, nodes: ['etcd', ...options.nodes].map((id) => ({ id, hosts: ['127.0.0.1'] })), clients: ['admin'] });
    const etcd: LocalEtcd = await startLocalEtcd({
      binary: findOrInstallEtcd({ env: process.env, install: true }),
      tls: { certFile: path.join(certs, 'etcd.pem'), keyFile: path.join(certs, 'etcd-key.pem'), caFile: path.join(certs, 'ca.pem') },
      logFile: path.join(dir, 'etcd.log'),
    });
    cleanup.push(() => etcd.stop());
    const network = await Network.start();
    cleanup.push(() => network.close());

    // Every port is chosen before any node starts, so each node's egress proxy knows them all.
    const ports = {} as Record<NodeSite, { clientApi: number; peering: number }>;
    for (const site of options.nodes) {
      const [clientApi, peering] = await freePorts(2);
      ports[site] = { clientApi, peering };
    }
    const etcdPort = Number(new URL(etcd.endpoint).port);
    const nodes = {} as Record<NodeSite, NodeProcess>;
    for (const site of options.nodes) {
      const delaysByPort: Record<number, number> = { [etcdPort]: options.etcdDelayMs ?? 0 };
      for (const other of options.nodes) {
        delaysByPort[ports[other].peering] = oneWay(site, other, delays);
        delaysByPort[ports[other].clientApi] = oneWay(site, other, delays);
      }
      const egress = await network.egress(delaysByPort);
      const cloudNode = options.cloudNode?.[site];
      const link = async (to: NodeSite) => {
        if (!nodes[to]) throw new Error(`${to} must start before ${site} to be linked from it`);
        const target = new URL(nodes[to].url);
        return `http://127.0.0.1:${await network.link({ host: target.hostname, port: Number(target.port) }, oneWay(site, to, delays))}`;
      };
      const extra = options.nodeEnv ? await options.nodeEnv(site, link) : {};
      // Under the bench's Pi-class profile the node is born in the cgroup its caller made.
      const cgroup = nodesCgroup();
      const node = await startInside(cgroup, () => spawnNode({
        name: site,
        args: ['--port', '0', '--data-dir', path.join(dir, site)],
        env: {
          PATH: process.env.PATH,
          ENOKI_HOST: '127.0.0.1',
          ENOKI_LOG_LEVEL: 'warn',
          ENOKI_ADMIN_TOKEN: TOKEN,
          ENOKI_NODE_ID: site,
          ENOKI_ETCD: etcd.endpoint,
          ENOKI_CERTS_DIR: certs,
          ENOKI_CLIENT_API_PORT: String(ports[site].clientApi),
          ENOKI_PEERING_PORT: String(ports[site].peering),
          ENOKI_ADVERTISE_HOST: '127.0.0.1',
          ENOKI_REPLICATION_MODE: options.replicationMode ?? 'sync',
          ENOKI_KEYGROUP_OWNER: 'admin',
          ...(cloudNode ? { ENOKI_CLOUD_NODE: cloudNode } : {}),
          ...options.env,
          ...extra,
          // All of this node's gRPC (peering, client API of kvNodes, etcd) leaves through its own egress proxy.
          grpc_proxy: `http://127.0.0.1:${egress}`,
        },
        logFile: path.join(dir, `${site}.log`),
      }));
      cleanup.push(() => node.stop());
      if (cgroup) verifyJoined(cgroup, node.pid, `node ${site}`);
      nodes[site] = node;
    }

    const links = new Map<string, Promise<string>>();
    const cluster: PaperCluster = {
      network,
      nodes,
      dir,
      url(node, via) {
        const route = via ?? ['client', node];
        if (route[route.length - 1] !== node) throw new Error(`path ${route.join(' → ')} does not end at ${node}`);
        const key = route.join('>');
        let url = links.get(key);
        if (!url) {
          const target = new URL(nodes[node].url);
          url = network.link({ host: target.hostname, port: Number(target.port) }, pathDelay(route, delays)).then((port) => `http://127.0.0.1:${port}`);
          links.set(key, url);
        }
        return url;
      },
      async linkOverhead(node, client, samples = 300) {
        const direct = nodes[node].url;
        const target = new URL(direct);
        const proxied = `http://127.0.0.1:${await network.link({ host: target.hostname, port: Number(target.port) }, 0)}`;
        const p50 = async (base: string) => {
          const times: number[] = [];
          for (let i = 0; i < samples + 20; i++) {
            const reply = await client.request(`${base}/healthz`);
            if (i >= 20) times.push(reply.end - reply.start); // the first ones open the connection
          }
          return summarize(times).p50;
        };
        // Interleaved halves, so a burst of load elsewhere on the machine hits both alike.
        const [d1, p1, p2, d2] = [await p50(direct), await p50(proxied), await p50(proxied), await p50(direct)];
        const directP50 = (d1 + d2) / 2;
        const proxiedP50 = (p1 + p2) / 2;
        const r = (x: number) => Math.round(x * 1000) / 1000;
        return { directP50: r(directP50), proxiedP50: r(proxiedP50), perDirectionMs: r((proxiedP50 - directP50) / 2) };
      },
      async deploy(node, name, wasm, keygroup, { kvNode } = {}) {
        const query = `keygroup=${keygroup}${kvNode ? `&kvNode=${kvNode}` : ''}`;
        const res = await fetch(`${nodes[node].url}/functions/${name}?${query}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${TOKEN}` },
          body: wasm as Uint8Array<ArrayBuffer>,
        });
        if (!res.ok) throw new Error(`deploy of ${name} on ${node}: ${res.status} ${await res.text()}`);
      },
      async invocationLogs(node, name, limit = 200) {
        const res = await fetch(`${nodes[node].url}/functions/${name}/logs?limit=${limit}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        if (!res.ok) throw new Error(`logs of ${name} on ${node}: ${res.status} ${await res.text()}`);
        return ((await res.json()) as { invocations: Array<{ invocationId: string; at: string; durationMs: number; status: number }> }).invocations;
      },
      async remove(node, name) {
        const res = await fetch(`${nodes[node].url}/functions/${name}?purge=true`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
        if (!res.ok) throw new Error(`removing ${name} from ${node}: ${res.status} ${await res.text()}`);
      },
      async stop({ keepFiles = false } = {}) {
        await stopAll();
        if (!keepFiles) await fs.rm(dir, { recursive: true, force: true });
      },
    };
    return cluster;
  } catch (err) {
    await stopAll();
    throw new Error(`starting the paper cluster failed (logs in ${dir}): ${(err as Error).message}`);
  }
}
