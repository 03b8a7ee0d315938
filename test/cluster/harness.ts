// A whole cluster for end-to-end tests: a CA with node and client certificates (from `enoki certs`),
// etcd with TLS and client-certificate auth, nodes started in-process with startNode (or one as a
// CLI child process), FReD clients over mTLS and trigger endpoints. Every wait is bounded; close()
// stops everything that was started, also after a failed start.
//
// Not repeated here: the peering API refusing client certificates (PERMISSION_DENIED) is covered
// against the same peering server in test/replication/grpc-transport/security.test.ts.

import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { runCertsCommand } from '../../replication/security/certs-cli.js';
import { clientCredentials } from '../../replication/security/policy.js';
import { loadConfig } from '../../runtime/config.js';
import { startNode, type RunningNode } from '../../runtime/node.js';
import { guest, TOKEN } from '../helpers/test-node.js';
import { startEtcd, type TestEtcd } from '../support/etcd.js';
import { FredClient } from './fred-client.js';
import { freePort, killChild, spawnNode } from './node-process.js';
import { startTriggerEndpoint, type TriggerEndpoint } from './trigger-endpoint.js';

export { UserRole } from '../../replication/grpc/protos.js';
export { FredClient, only, rejects, type CallFailure, type Item, type WireVersion } from './fred-client.js';
export type { TriggerEndpoint, TriggerEvent } from './trigger-endpoint.js';
export { guest, TOKEN };

/** The cluster's nodes, each with a node certificate for 127.0.0.1. */
export const NODES = ['edge1', 'edge2', 'cloud'] as const;
export type NodeName = (typeof NODES)[number];
/** Users with a client certificate. */
export const USERS = ['alice', 'bob'] as const;
export type User = (typeof USERS)[number];
/** FReD clients act as a user, or as a node with the node's own certificate. */
export type Principal = User | NodeName;
/** Node certificate of the tests' trigger endpoints. */
const TRIGGER_CERTIFICATE = 'trigger';

// ---- waiting ------------------------------------------------------------------------------------

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `check` until it returns without throwing and returns its result; after `timeoutMs` the
 * last failure is thrown, saying how long was waited.
 */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 5_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) {
        if (error instanceof Error) error.message = `still failing after ${timeoutMs} ms: ${error.message}`;
        throw error;
      }
    }
    await sleep(intervalMs);
  }
}

/** A node run through the CLI on fixed ports, so that a restart comes back on the same addresses. */
export interface ProcessNode {
  id: NodeName;
  dataDir: string;
  peeringPort: number;
  clientApiPort: number;
  url: string;
  /** SIGKILL, as a crash; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts the process again with the same data directory and ports. */
  restart(): Promise<void>;
}

// ---- the cluster ----------------------------------------------------------------------------------

export interface ClusterOptions {
  /** Nodes started in-process; the others can be run as processes with startProcess(). Default: all. */
  inProcess?: readonly NodeName[];
  /** Seconds between anti-entropy rounds on every node. Default 2. */
  antiEntropySeconds?: number;
  /** User given every role on keygroups that nodes create for functions (ENOKI_KEYGROUP_OWNER). */
  keygroupOwner?: User;
}

export class TestCluster {
  private readonly running = new Map<NodeName, RunningNode>();
  private readonly processes = new Map<NodeName, ProcessNode & { child?: ChildProcess }>();
  private readonly clients = new Map<string, FredClient>();
  private readonly triggers: TriggerEndpoint[] = [];
  private etcdInstance?: TestEtcd;

  private constructor(
    readonly root: string,
    private readonly options: ClusterOptions & Required<Pick<ClusterOptions, 'inProcess' | 'antiEntropySeconds'>>,
  ) {}

  get certsDir(): string {
    return path.join(this.root, 'certs');
  }

  get etcd(): TestEtcd {
    if (!this.etcdInstance) throw new Error('etcd is not running');
    return this.etcdInstance;
  }

  static async start(options: ClusterOptions = {}): Promise<TestCluster> {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-cluster-'));
    const cluster = new TestCluster(root, {
      inProcess: options.inProcess ?? NODES,
      antiEntropySeconds: options.antiEntropySeconds ?? 2,
      keygroupOwner: options.keygroupOwner,
    });
    try {
      await runCertsCommand({
        dir: cluster.certsDir,
        nodes: [...NODES, TRIGGER_CERTIFICATE, 'etcd'].map((id) => ({ id, hosts: ['127.0.0.1'] })),
        clients: [...USERS],
      });
      const file = (name: string) => path.join(cluster.certsDir, name);
      cluster.etcdInstance = await startEtcd({ tls: { certFile: file('etcd.pem'), keyFile: file('etcd-key.pem'), caFile: file('ca.pem') } });
      // One at a time: each registers itself before the next one starts (as an operator would).
      for (const id of cluster.options.inProcess) await cluster.startInProcess(id);
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  private clusterConfig(id: NodeName, ports: { peeringPort: number; clientApiPort: number }) {
    return {
      etcd: [this.etcd.endpoint],
      certsDir: this.certsDir,
      ...ports,
      advertiseHost: '127.0.0.1',
      cloudNode: id === 'cloud' ? undefined : 'cloud',
      replicationMode: 'sync' as const,
      antiEntropySeconds: this.options.antiEntropySeconds,
      keygroupOwner: this.options.keygroupOwner,
    };
  }

  private async startInProcess(id: NodeName): Promise<RunningNode> {
    const config = loadConfig(
      {
        port: 0,
        host: '127.0.0.1',
        dataDir: path.join(this.root, id),
        nodeId: id,
        adminToken: TOKEN,
        workers: 1,
        cluster: this.clusterConfig(id, { peeringPort: 0, clientApiPort: 0 }),
      },
      {},
    );
    const node = await startNode(config, pino({ level: 'silent' }));
    this.running.set(id, node);
    return node;
  }

  /** A node started in-process. */
  node(id: NodeName): RunningNode {
    const node = this.running.get(id);
    if (!node) throw new Error(`node ${id} is not running in-process`);
    return node;
  }

  /** host:port of a node's FReD client API, as nodes register it. */
  clientAddress(id: NodeName): string {
    const port = this.running.get(id)?.cluster?.clientApiPort ?? this.processes.get(id)?.clientApiPort;
    if (port === undefined) throw new Error(`node ${id} was not started`);
    return `127.0.0.1:${port}`;
  }

  /** A FReD client of `node`'s client API presenting `as`'s certificate (kept until close()). */
  async client(node: NodeName, as: Principal = 'alice'): Promise<FredClient> {
    const key = `${node}/${as}`;
    let client = this.clients.get(key);
    if (!client) {
      // The server is a node: the default options check its certificate is a node's.
      client = new FredClient(this.clientAddress(node), await clientCredentials(this.certsDir, as));
      this.clients.set(key, client);
    }
    return client;
  }

  /** `query` carries deploy options, e.g. '?kvNode=cloud'. */
  async deploy(node: NodeName, name: string, bytes: Uint8Array, query = ''): Promise<Response> {
    return fetch(`${this.node(node).url}/functions/${name}${query}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: bytes as Uint8Array<ArrayBuffer>,
      signal: AbortSignal.timeout(30_000),
    });
  }

  async invoke(node: NodeName, name: string): Promise<Response> {
    return fetch(`${this.node(node).url}/fn/${name}`, { signal: AbortSignal.timeout(10_000) });
  }

  async triggerEndpoint(): Promise<TriggerEndpoint> {
    const endpoint = await startTriggerEndpoint(this.certsDir, TRIGGER_CERTIFICATE);
    this.triggers.push(endpoint);
    return endpoint;
  }

  /** Runs `id` as a CLI process on fixed free ports (ENOKI_* environment), anti-entropy every second. */
  async startProcess(id: NodeName): Promise<ProcessNode> {
    if (this.running.has(id) || this.processes.has(id)) throw new Error(`node ${id} is already running`);
    const [peeringPort, clientApiPort] = [await freePort(), await freePort()];
    const dataDir = path.join(this.root, id);
    const config = this.clusterConfig(id, { peeringPort, clientApiPort });
    const env = {
      ENOKI_NODE_ID: id,
      ENOKI_ADMIN_TOKEN: TOKEN,
      ENOKI_HOST: '127.0.0.1',
      ENOKI_WORKERS: '1',
      ENOKI_LOG_LEVEL: 'warn',
      ENOKI_ETCD: config.etcd.join(','),
      ENOKI_CERTS_DIR: this.certsDir,
      ENOKI_PEERING_PORT: String(peeringPort),
      ENOKI_CLIENT_API_PORT: String(clientApiPort),
      ENOKI_ADVERTISE_HOST: '127.0.0.1',
      ...(config.cloudNode ? { ENOKI_CLOUD_NODE: config.cloudNode } : {}),
      ENOKI_ANTI_ENTROPY_SECONDS: '1',
      ...(config.keygroupOwner ? { ENOKI_KEYGROUP_OWNER: config.keygroupOwner } : {}),
    };
    const handle: ProcessNode & { child?: ChildProcess } = {
      id,
      dataDir,
      peeringPort,
      clientApiPort,
      url: '',
      kill: async () => {
        if (handle.child) await killChild(handle.child);
        handle.child = undefined;
      },
      restart: async () => {
        await handle.kill();
        const started = await spawnNode(env, dataDir);
        handle.child = started.child;
        handle.url = started.url;
      },
    };
    this.processes.set(id, handle);
    await handle.restart();
    return handle;
  }

  /** Stops everything that was started; safe to call after a failed start, and twice. */
  async close(): Promise<void> {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
    for (const endpoint of this.triggers.splice(0)) endpoint.stop();
    const errors: unknown[] = [];
    const attempt = async (action: () => Promise<unknown>) => {
      try {
        await action();
      } catch (error) {
        errors.push(error);
      }
    };
    await Promise.all([...this.processes.values()].map((p) => attempt(() => p.kill())));
    this.processes.clear();
    await Promise.all([...this.running.values()].map((node) => attempt(() => node.close())));
    this.running.clear();
    if (this.etcdInstance) await attempt(() => this.etcdInstance!.stop());
    this.etcdInstance = undefined;
    await fs.rm(this.root, { recursive: true, force: true });
    if (errors.length > 0) throw errors[0];
  }
}

/**
 * One cluster per test file, started by the first test that needs it (not in a `before` hook:
 * uvu swallows a failing hook's error) and closed in `after`.
 */
export function sharedCluster(options: ClusterOptions = {}): { get(): Promise<TestCluster>; close(): Promise<void> } {
  let started: Promise<TestCluster> | undefined;
  return {
    get: () => (started ??= TestCluster.start(options)),
    close: async () => {
      if (!started) return;
      const cluster = await started.catch(() => undefined);
      await cluster?.close();
    },
  };
}
