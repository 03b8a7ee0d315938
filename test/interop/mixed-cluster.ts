// A cluster of real FReD nodes and Enoki nodes in any order, for interop tests: one CA (Enoki's
// `enoki certs` format or FReD's own), etcd with TLS and client certificates, FReD's trigger test
// server, and per node either `frednode` (memory adaptor) or an Enoki node run through the CLI,
// each on loopback ports chosen at run time. Nodes are named nodeA, nodeB, nodeC, ... as in
// FReD's 3NodeTest. Every process started is stopped by close(), also after a failed start.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { runCertsCommand } from '../../replication/security/certs-cli.js';
import { FredClient } from '../cluster/fred-client.js';
import { freePort, killChild, spawnNode } from '../cluster/node-process.js';
import { startEtcd, type TestEtcd } from '../support/etcd.js';
import type { FredBinaries } from './fred-binaries.js';
import { writeFredFormatCertificates } from './fred-format-certs.js';

/** e = Enoki node, f = FReD node. */
export type NodeKind = 'e' | 'f';
export type CertificateFormat = 'enoki' | 'fred';

export interface MixedNode {
  id: string;
  kind: NodeKind;
  clientPort: number;
  peerPort: number;
  /** host:port of the node's client API. */
  clientAddress: string;
  /** An Enoki node's HTTP API (admin token MIXED_CLUSTER_TOKEN); '' for a FReD node. */
  url: string;
  /** Stops the node (SIGKILL); its data is gone for a FReD node (memory adaptor). */
  kill(): Promise<void>;
  /** Starts it again on the same ports (an Enoki node keeps its data directory). */
  restart(): Promise<void>;
}

export interface MixedClusterOptions {
  certificates?: CertificateFormat;
  /** Enoki nodes' anti-entropy interval. Default 2 s. */
  antiEntropySeconds?: number;
  /** Users with a client certificate (with IP SAN 127.0.0.1, which FReD's client API checks). */
  clients?: string[];
}

export const NODE_IDS = ['nodeA', 'nodeB', 'nodeC', 'nodeD', 'nodeE'];
export const MIXED_CLUSTER_TOKEN = 'mixed-cluster-token';
const START_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class MixedCluster {
  readonly nodes: MixedNode[] = [];
  readonly trigger = { id: 'trigger', host: '', wsHost: '' };
  private etcd?: TestEtcd;
  private readonly children = new Set<ChildProcess>();
  private readonly clientCache = new Map<string, FredClient>();

  private constructor(
    readonly root: string,
    readonly binaries: FredBinaries,
    readonly options: Required<MixedClusterOptions>,
  ) {}

  get certsDir(): string {
    return path.join(this.root, 'certs');
  }

  get logsDir(): string {
    return path.join(this.root, 'logs');
  }

  /** `order` is one letter per node, e.g. 'efe': nodeA Enoki, nodeB FReD, nodeC Enoki. */
  static async start(binaries: FredBinaries, order: string, options: MixedClusterOptions = {}): Promise<MixedCluster> {
    const root = await fsp.mkdtemp(path.join(os.tmpdir(), `enoki-mixed-${order}-`));
    const cluster = new MixedCluster(root, binaries, {
      certificates: options.certificates ?? 'enoki',
      antiEntropySeconds: options.antiEntropySeconds ?? 2,
      clients: options.clients ?? ['client', 'littleclient'],
    });
    try {
      await cluster.setUp([...order].map((k) => (k === 'f' ? 'f' : 'e')));
    } catch (error) {
      // The logs go with close(): what the processes said comes along in the error.
      const logs = cluster.logTails();
      await cluster.close();
      if (error instanceof Error) error.message += logs;
      throw error;
    }
    return cluster;
  }

  private async setUp(kinds: NodeKind[]): Promise<void> {
    await fsp.mkdir(this.logsDir, { recursive: true });
    const ids = NODE_IDS.slice(0, kinds.length);
    const machines = [...ids, 'etcd', 'trigger'];
    if (this.options.certificates === 'fred') {
      writeFredFormatCertificates(this.certsDir, [...machines, ...this.options.clients]);
    } else {
      await runCertsCommand({
        dir: this.certsDir,
        nodes: machines.map((id) => ({ id, hosts: ['127.0.0.1', 'localhost'] })),
        clients: this.options.clients.map((user) => ({ user, hosts: ['127.0.0.1', 'localhost'] })),
      });
    }
    const pem = (name: string) => path.join(this.certsDir, `${name}.pem`);
    const key = (name: string) => path.join(this.certsDir, `${name}-key.pem`);
    this.etcd = await startEtcd({ tls: { certFile: pem('etcd'), keyFile: key('etcd'), caFile: pem('ca') } });

    const [triggerPort, triggerWsPort] = [await freePort(), await freePort()];
    this.trigger.host = `127.0.0.1:${triggerPort}`;
    this.trigger.wsHost = `127.0.0.1:${triggerWsPort}`;
    this.spawnLogged('trigger', this.binaries.simpletrigger, [
      '--host', this.trigger.host, '--wshost', this.trigger.wsHost, '--log-handler', 'prod',
      '--cert', pem('trigger'), '--key', key('trigger'), '--ca-file', pem('ca'),
    ]);

    // One at a time, each registered before the next starts, as an operator would.
    for (const [i, kind] of kinds.entries()) {
      const node = await this.makeNode(ids[i]!, kind);
      this.nodes.push(node);
      await node.restart();
    }
  }

  private async makeNode(id: string, kind: NodeKind): Promise<MixedNode> {
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    let child: ChildProcess | undefined;
    const node: MixedNode = {
      id,
      kind,
      clientPort,
      peerPort,
      clientAddress: `127.0.0.1:${clientPort}`,
      url: '',
      kill: async () => {
        if (child) await killChild(child);
        child = undefined;
      },
      restart: async () => {
        await node.kill();
        if (kind === 'f') child = await this.startFred(node);
        else ({ child, url: node.url } = await this.startEnoki(node));
      },
    };
    return node;
  }

  private async startFred(node: MixedNode): Promise<ChildProcess> {
    const pem = path.join(this.certsDir, `${node.id}.pem`);
    const key = path.join(this.certsDir, `${node.id}-key.pem`);
    const ca = path.join(this.certsDir, 'ca.pem');
    const child = this.spawnLogged(node.id, this.binaries.frednode, [
      '--nodeID', node.id, '--adaptor', 'memory', '--log-level', 'info', '--handler', 'prod',
      '--host', node.clientAddress, '--advertise-host', node.clientAddress,
      '--peer-host', `127.0.0.1:${node.peerPort}`, '--peer-advertise-host', `127.0.0.1:${node.peerPort}`,
      '--cert', pem, '--key', key, '--ca-file', ca,
      '--peer-cert', pem, '--peer-key', key, '--peer-ca', ca,
      '--trigger-cert', pem, '--trigger-key', key, '--trigger-ca', ca,
      '--nase-host', this.etcd!.endpoint.replace(/^https?:\/\//, ''),
      '--nase-cert', pem, '--nase-key', key, '--nase-ca', ca,
    ]);
    // Ready once its client API answers (it registers in etcd before listening).
    const client = new FredClient(node.clientAddress, grpc.credentials.createSsl(fs.readFileSync(ca), fs.readFileSync(key), fs.readFileSync(pem)));
    try {
      const deadline = Date.now() + START_TIMEOUT_MS;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`FReD node ${node.id} exited during start; see ${this.logFile(node.id)}`);
        try {
          await client.call('GetAllReplica', {});
          break;
        } catch (error) {
          if (Date.now() > deadline) throw new Error(`FReD node ${node.id} did not answer within ${START_TIMEOUT_MS} ms: ${(error as Error).message}`);
          await sleep(200);
        }
      }
    } finally {
      client.close();
    }
    return child;
  }

  private async startEnoki(node: MixedNode): Promise<{ child: ChildProcess; url: string }> {
    const env = {
      ENOKI_NODE_ID: node.id,
      ENOKI_ADMIN_TOKEN: MIXED_CLUSTER_TOKEN,
      ENOKI_HOST: '127.0.0.1',
      ENOKI_WORKERS: '1',
      ENOKI_PREWARM: 'false',
      ENOKI_LOG_LEVEL: 'info',
      ENOKI_ETCD: this.etcd!.endpoint,
      ENOKI_CERTS_DIR: this.certsDir,
      ENOKI_PEERING_PORT: String(node.peerPort),
      ENOKI_CLIENT_API_PORT: String(node.clientPort),
      ENOKI_ADVERTISE_HOST: '127.0.0.1',
      ENOKI_ANTI_ENTROPY_SECONDS: String(this.options.antiEntropySeconds),
    };
    const { child, url } = await spawnNode(env, path.join(this.root, node.id), { logFile: this.logFile(node.id) });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return { child, url };
  }

  /** The last lines of every process's log, for an error message. */
  logTails(lines = 12): string {
    let out = '';
    for (const name of fs.existsSync(this.logsDir) ? fs.readdirSync(this.logsDir).sort() : []) {
      const text = fs.readFileSync(path.join(this.logsDir, name), 'utf8').trimEnd();
      if (text) out += `\n--- ${name} (last ${lines} lines)\n${text.split('\n').slice(-lines).join('\n')}`;
    }
    return out;
  }

  logFile(name: string): string {
    return path.join(this.logsDir, `${name}.log`);
  }

  private spawnLogged(name: string, binary: string, args: string[]): ChildProcess {
    const log = fs.openSync(this.logFile(name), 'a');
    const child = spawn(binary, args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  node(id: string): MixedNode {
    const node = this.nodes.find((n) => n.id === id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  get etcdEndpoint(): string {
    return this.etcd!.endpoint;
  }

  /** A FReD client of a node's client API with `user`'s certificate (kept until close()). */
  client(nodeId: string, user = 'client'): FredClient {
    const key = `${nodeId}/${user}`;
    let client = this.clientCache.get(key);
    if (!client) {
      const read = (name: string) => fs.readFileSync(path.join(this.certsDir, name));
      client = new FredClient(this.node(nodeId).clientAddress, grpc.credentials.createSsl(read('ca.pem'), read(`${user}-key.pem`), read(`${user}.pem`)));
      this.clientCache.set(key, client);
    }
    return client;
  }

  async close(): Promise<void> {
    for (const client of this.clientCache.values()) client.close();
    this.clientCache.clear();
    await Promise.allSettled([...this.children].map((child) => killChild(child)));
    await this.etcd?.stop().catch(() => undefined);
    if (process.env.ENOKI_KEEP_INTEROP_LOGS) process.stderr.write(`interop logs kept in ${this.root}\n`);
    else await fsp.rm(this.root, { recursive: true, force: true });
  }
}
