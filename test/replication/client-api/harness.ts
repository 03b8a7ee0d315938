// Test node for the client API: a real gRPC server on loopback over MemoryReplicaStore, MemoryNaming
// and MemoryTriggerStore, with recording fakes for replication and trigger calls, and a client made
// from the loaded clientService definition that names its user in a metadata header.
import * as grpc from '@grpc/grpc-js';
import * as assert from 'uvu/assert';
import { CLIENT_API_SERVER_OPTIONS, clientService, createClientService } from '../../../replication/client-api/service.js';
import type { ClientApiDeps, ClientReplication, TriggerEvent } from '../../../replication/client-api/deps.js';
import { MemoryTriggerStore } from '../../../replication/client-api/triggers.js';
import { MemoryNaming } from '../../../replication/naming/memory-naming.js';
import { MemoryReplicaStore } from '../../../replication/store/memory-store.js';
import type { AppliedWrite } from '../../../replication/store/port.js';
import { startServer, type TestServer } from '../grpc/helpers.js';

export const SELF = 'A';
export const USER_HEADER = 'x-test-user';
/** Client-API addresses the naming service lists for the three registered nodes. */
export const EXT = { A: 'a.example:9001', B: 'b.example:9001', C: 'c.example:9001' } as const;

/** Records what the client API asks of replication; joins and leaves act on the local store. */
export class RecordingReplication implements ClientReplication {
  writes: AppliedWrite[][] = [];
  joins: Array<[string, number]> = [];
  leaves: string[] = [];
  invites: Array<[string, string, number]> = [];
  drops: Array<[string, string]> = [];
  failWrites = false;
  failInvites = false;

  constructor(
    private readonly store: MemoryReplicaStore,
    private readonly naming: MemoryNaming,
  ) {}

  async writeLocal(applied: AppliedWrite[]): Promise<void> {
    this.writes.push(applied);
    if (this.failWrites) throw new Error('outbox closed');
  }

  async joinKeygroup(keygroup: string, expiry: number): Promise<void> {
    this.joins.push([keygroup, expiry]);
    const info = await this.naming.getKeygroup(keygroup);
    if (!(await this.store.getKeygroup(keygroup))) await this.store.createKeygroup({ name: keygroup, mutable: info!.mutable, expiry });
  }

  async leaveKeygroup(keygroup: string): Promise<void> {
    this.leaves.push(keygroup);
    if (await this.store.getKeygroup(keygroup)) await this.store.deleteKeygroup(keygroup);
  }

  async inviteReplica(keygroup: string, node: string, expiry: number): Promise<void> {
    this.invites.push([keygroup, node, expiry]);
    if (this.failInvites) throw new Error(`node ${node} unreachable`);
  }

  async dropReplica(keygroup: string, node: string): Promise<void> {
    this.drops.push([keygroup, node]);
  }
}

export interface LogEntry {
  level: 'debug' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message?: string;
}

export type Call = <Res = Record<string, unknown>>(method: string, request: object, user?: string | null) => Promise<Res>;

export interface TestNode {
  store: MemoryReplicaStore;
  naming: MemoryNaming;
  triggers: MemoryTriggerStore;
  replication: RecordingReplication;
  /** Every trigger call in order; calls to hosts in failingHosts reject. */
  triggerCalls: Array<{ host: string; event: TriggerEvent }>;
  failingHosts: Set<string>;
  logs: LogEntry[];
  server: TestServer;
  /** Calls a method as `user` ('alice' unless given; null sends no user header). */
  call: Call;
  close(): Promise<void>;
}

const GenericClient = grpc.makeGenericClientConstructor(clientService, 'Client');

export async function startNode(overrides: Partial<ClientApiDeps> = {}): Promise<TestNode> {
  const store = new MemoryReplicaStore({ nodeId: SELF });
  await store.open();
  const naming = new MemoryNaming();
  await naming.start();
  for (const id of ['A', 'B', 'C'] as const) {
    await naming.registerNode({ id, address: `${id.toLowerCase()}.example:5555`, extAddress: EXT[id] });
  }
  const triggers = new MemoryTriggerStore();
  const replication = new RecordingReplication(store, naming);
  const triggerCalls: TestNode['triggerCalls'] = [];
  const failingHosts = new Set<string>();
  const logs: LogEntry[] = [];
  const log = (level: LogEntry['level']) => (fields: object, message?: string) =>
    logs.push({ level, fields: fields as Record<string, unknown>, message });

  const service = createClientService({
    nodeId: SELF,
    store,
    naming,
    replication,
    triggers,
    callTrigger: async (host, event) => {
      triggerCalls.push({ host, event });
      if (failingHosts.has(host)) throw new Error(`trigger ${host} unreachable`);
    },
    userOf: (call) => {
      const value = call.metadata.get(USER_HEADER)[0];
      return typeof value === 'string' ? value : undefined;
    },
    logger: { debug: log('debug'), warn: log('warn'), error: log('error') },
    ...overrides,
  });
  const server = await startServer([[clientService, service]], undefined, CLIENT_API_SERVER_OPTIONS);
  const client = new GenericClient(server.address, grpc.credentials.createInsecure()) as unknown as Record<string, Function>;

  const call: Call = (method, request, user = 'alice') =>
    new Promise((resolve, reject) => {
      const metadata = new grpc.Metadata();
      if (user !== null) metadata.set(USER_HEADER, user);
      client[method]!.call(client, request, metadata, { deadline: Date.now() + 5_000 }, (error: Error | null, response: unknown) =>
        error ? reject(error) : resolve(response as never),
      );
    });

  return {
    store,
    naming,
    triggers,
    replication,
    triggerCalls,
    failingHosts,
    logs,
    server,
    call,
    close: async () => {
      (client as unknown as grpc.Client).close();
      server.stop();
      await naming.close();
      await store.close();
    },
  };
}

/** Asserts that `action` fails with gRPC status `code` and, if given, a message matching `mentions`. */
export async function rejects(action: Promise<unknown>, code: grpc.status, mentions?: RegExp): Promise<grpc.ServiceError> {
  try {
    await action;
  } catch (error) {
    const serviceError = error as grpc.ServiceError;
    assert.is(grpc.status[serviceError.code], grpc.status[code], `expected ${grpc.status[code]}, got: ${serviceError.message}`);
    if (mentions) assert.match(serviceError.details, mentions);
    return serviceError;
  }
  assert.unreachable(`expected a failure with ${grpc.status[code]}`);
  throw new Error('unreachable');
}

/** A Version message as sent and as decoded from responses (uint64 counters as decimal strings). */
export const v = (version: Record<string, number>) => ({ version: Object.fromEntries(Object.entries(version).map(([k, n]) => [k, String(n)])) });

/** Creates keygroup `name` through the API as alice. */
export async function createKeygroup(node: TestNode, name: string, options: { mutable?: boolean; expiry?: number } = {}): Promise<void> {
  await node.call('CreateKeygroup', { keygroup: name, mutable: options.mutable ?? true, expiry: options.expiry ?? 0 });
}

export interface WireItem {
  id: string;
  val: string;
  version: { version: Record<string, string> };
}
