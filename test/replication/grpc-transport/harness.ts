// A cluster of ReplicationEngines talking over real gRPC with mTLS on 127.0.0.1: memory store,
// memory outbox and one MemoryMembershipRegistry, certificates from security/certs.ts in a
// temporary directory. Every wait is bounded; close() stops every server and engine.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { ReplicationEngine, type ReplicationEngineOptions } from '../../../replication/engine/engine.js';
import { MemoryMembershipRegistry, type Membership } from '../../../replication/engine/membership.js';
import { MemoryOutbox } from '../../../replication/engine/outbox.js';
import { startPeeringServer, type PeeringServer } from '../../../replication/grpc/engine-peering.js';
import { GrpcPeerTransport } from '../../../replication/grpc/grpc-transport.js';
import {
  createCa,
  issueClientCertificate,
  issueNodeCertificate,
  writeCertificateSet,
  type CertificateAuthority,
} from '../../../replication/security/certs.js';
import { clientCredentials, serverCredentials } from '../../../replication/security/policy.js';
import { MemoryReplicaStore } from '../../../replication/store/memory-store.js';
import type { LocalWrite } from '../../../replication/store/port.js';
import { versionText } from '../../../replication/store/version.js';

/** A certificate directory with the cluster CA, node certificates (SAN 127.0.0.1) and client certificates. */
export interface TestCerts {
  dir: string;
  ca: CertificateAuthority;
  remove(): Promise<void>;
}

export async function makeCerts(nodes: string[], clients: string[] = []): Promise<TestCerts> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'enoki-grpc-transport-'));
  const ca = await createCa({ commonName: 'enoki-test-ca' });
  const certificates = [
    ...(await Promise.all(nodes.map((nodeId) => issueNodeCertificate(ca, { nodeId, hosts: ['127.0.0.1'] })))),
    ...(await Promise.all(clients.map((user) => issueClientCertificate(ca, { user })))),
  ];
  await writeCertificateSet(dir, { ca, certificates });
  return { dir, ca, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Polls `check` until it returns true; fails the test after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.unreachable(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Awaits `action` and returns what it threw; fails the test if it did not throw. */
export async function failure(action: () => Promise<unknown>): Promise<Error & { code?: unknown }> {
  try {
    await action();
  } catch (error) {
    return error as Error & { code?: unknown };
  }
  return assert.unreachable('expected the call to fail') as never;
}

export interface GrpcNode {
  id: string;
  store: MemoryReplicaStore;
  outbox: MemoryOutbox;
  transport: GrpcPeerTransport;
  engine: ReplicationEngine;
  server?: PeeringServer;
}

type Tuning = Partial<Omit<ReplicationEngineOptions, 'store' | 'transport' | 'outbox' | 'membership'>>;

export interface GrpcClusterOptions {
  clients?: string[];
  tuning?: Tuning;
  /** Replaces a node's view of the shared registry, e.g. with one that fails for a while. */
  membership?: (id: string, registryView: Membership) => Membership;
}

export class GrpcCluster {
  readonly registry = new MemoryMembershipRegistry();
  readonly nodes = new Map<string, GrpcNode>();
  /** What the naming service would answer: node id → peering host:port. */
  readonly addresses = new Map<string, string>();

  private constructor(
    readonly certs: TestCerts,
    private readonly options: GrpcClusterOptions,
  ) {}

  /** Nodes with certificates for `ids` (plus `clients`), each serving peering on its own port. */
  static async start(ids: string[], options: GrpcClusterOptions = {}): Promise<GrpcCluster> {
    const cluster = new GrpcCluster(await makeCerts(ids, options.clients), options);
    try {
      for (const id of ids) await cluster.addNode(id, options.tuning);
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  node(id: string): GrpcNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  private async addNode(id: string, tuning: Tuning = {}): Promise<void> {
    const store = new MemoryReplicaStore({ nodeId: id });
    await store.open();
    const outbox = new MemoryOutbox();
    await outbox.open();
    const transport = new GrpcPeerTransport({
      resolve: async (peer) => this.addresses.get(peer),
      // Each peer must present its own node certificate, not just any node's.
      credentials: (peer) => clientCredentials(this.certs.dir, id, { serverNodeId: peer }),
      deadlineMs: 2_000,
    });
    const engine = new ReplicationEngine({
      store,
      outbox,
      transport,
      membership: this.options.membership?.(id, this.registry.view(id)) ?? this.registry.view(id),
      antiEntropyIntervalMs: 0, // tests run anti-entropy explicitly
      syncTimeoutMs: 3_000,
      retry: { baseMs: 50, maxMs: 300 },
      ...tuning,
    });
    const node: GrpcNode = { id, store, outbox, transport, engine };
    this.nodes.set(id, node);
    await this.startServer(id);
    await engine.start();
  }

  /** (Re)starts a node's peering server on a fresh port and publishes the new address. */
  async startServer(id: string): Promise<void> {
    const node = this.node(id);
    const server = await startPeeringServer({
      host: '127.0.0.1',
      port: 0,
      credentials: await serverCredentials(this.certs.dir, id),
      handler: node.engine,
      shutdownGraceMs: 500,
    });
    node.server = server;
    this.addresses.set(id, `127.0.0.1:${server.port}`);
  }

  async stopServer(id: string): Promise<void> {
    const node = this.node(id);
    await node.server?.close();
    node.server = undefined;
  }

  /** As the composition root does: members' stores first, then the cluster-wide record. */
  async createKeygroup(name: string, members: string[], mutable = true): Promise<void> {
    for (const id of members) await this.node(id).store.createKeygroup({ name, mutable, expiry: 0 });
    this.registry.createKeygroup(name, { mutable, members: members.map((nodeId) => ({ nodeId, expiry: 0 })) });
  }

  /** A client write on `id`: applied locally, then replicated. */
  async write(id: string, writes: LocalWrite[], mode: 'sync' | 'async' = 'sync') {
    const node = this.node(id);
    const applied = await node.store.applyLocal(writes);
    return { applied, result: await node.engine.replicateLocal(applied, mode) };
  }

  /** A node's full copy of a keygroup as sorted text: every sibling, tombstones included. */
  async canonical(id: string, keygroup = 'kv'): Promise<string> {
    const lines: string[] = [];
    for await (const item of this.node(id).store.dump(keygroup)) {
      const siblings = item.siblings.map((s) => `${s.tombstone ? 'x' : 'v'}[${versionText(s.version)}]${s.value}`).sort();
      lines.push(`${item.id}=${siblings.join('|')}`);
    }
    return lines.sort().join('\n');
  }

  /** Waits until every node holds the same copy of the keygroup and returns it. */
  async converged(keygroup = 'kv', timeoutMs = 5_000): Promise<string> {
    const ids = [...this.nodes.keys()];
    let copies: string[] = [];
    await waitFor(
      async () => {
        copies = await Promise.all(ids.map((id) => this.canonical(id, keygroup)));
        return copies.every((c) => c === copies[0]);
      },
      `${keygroup} to converge on ${ids.join(', ')}`,
      timeoutMs,
    ).catch((error) => {
      throw new Error(`${(error as Error).message}\n${ids.map((id, i) => `${id}:\n${copies[i]}`).join('\n')}`);
    });
    return copies[0]!;
  }

  async close(): Promise<void> {
    for (const node of this.nodes.values()) {
      await node.engine.stop();
      await node.server?.close();
      node.transport.close();
    }
    await this.certs.remove();
  }
}
