// Cluster wiring (part of the composition root): naming service on etcd, the replication engine
// with its durable outbox, FReD's peering and client APIs over mTLS, and triggers. Everything a
// standalone node does not need is built here and only here.

import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { createClientService, CLIENT_API_SERVER_OPTIONS } from '../../replication/client-api/service.js';
import { FileTriggerStore } from '../../replication/client-api/file-trigger-store.js';
import { createTriggerNotifier, type NotifyTriggers } from '../../replication/client-api/triggers.js';
import type { TriggerEvent } from '../../replication/client-api/deps.js';
import { ReplicationEngine } from '../../replication/engine/engine.js';
import { LevelOutbox } from '../../replication/engine/level-outbox.js';
import { startPeeringServer } from '../../replication/grpc/engine-peering.js';
import { GrpcPeerTransport } from '../../replication/grpc/grpc-transport.js';
import { clientService } from '../../replication/grpc/protos.js';
import { GrpcTriggerClient } from '../../replication/grpc/trigger-client.js';
import { EtcdNaming } from '../../replication/naming/etcd-naming.js';
import {
  callerAddress,
  certificateCoversAddress,
  certificateOfCall,
  checkUser,
  clientCredentials,
  readTlsMaterial,
  serverCredentials,
} from '../../replication/security/policy.js';
import type { AppliedWrite, ReplicaStore } from '../../replication/store/port.js';
import { DEFAULT_REMOTE_KV_DEADLINE_MS, type ClusterConfig } from '../config.js';
import type { KeygroupProvider, WriteReplicator } from '../kv/keygroups.js';
import type { ClusterView } from '../observe/cluster-view.js';
import { LocalKvBackends, type KvBackends } from '../kv/kv-backend.js';
import { ClusterKeygroups } from './cluster-keygroups.js';
import { ClusterKvBackends } from './cluster-kv-backends.js';
import { NamingClusterView } from './naming-cluster-view.js';
import { NamingMembership } from './naming-membership.js';
import { RemoteNodes } from './remote-nodes.js';

export interface RunningCluster {
  keygroups: KeygroupProvider;
  /** The local replica, or for functions deployed with kvNode that node's. */
  kvBackends: KvBackends;
  replicator: WriteReplicator;
  /** Read-only: members, peers and replication lag, for GET /cluster. */
  view: ClusterView;
  peeringPort: number;
  clientApiPort: number;
  close(): Promise<void>;
}

async function bindServer(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port))));
}

/** Trigger endpoints are not Enoki nodes: the node presents its certificate and checks theirs against the CA. */
function triggerCaller(certsDir: string, nodeId: string): { call: (host: string, event: TriggerEvent) => Promise<void>; close(): void } {
  const clients = new Map<string, Promise<GrpcTriggerClient>>();
  const clientFor = (host: string) => {
    let client = clients.get(host);
    if (!client) {
      client = clientCredentials(certsDir, nodeId, { allowNonNodeServer: true }).then(
        (credentials) => new GrpcTriggerClient(host, credentials, { deadlineMs: 2000 }),
      );
      clients.set(host, client);
    }
    return client;
  };
  return {
    async call(host, event) {
      const client = await clientFor(host);
      if (event.kind === 'put') await client.putItemTrigger(event);
      else await client.deleteItemTrigger(event);
    },
    close() {
      for (const client of clients.values()) void client.then((c) => c.close());
    },
  };
}

/** Decorates the store the engine writes into, so replicated puts and deletes reach triggers. */
function withTriggers(store: ReplicaStore, notify: NotifyTriggers): ReplicaStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property !== 'mergeRemote') {
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (keygroup: string, id: string, sibling: Parameters<ReplicaStore['mergeRemote']>[2]) => {
        const changed = await target.mergeRemote(keygroup, id, sibling);
        // As a FReD node reports a replicated delete: an update with an empty value (a delete
        // event only goes out for a delete made through this node's own client).
        if (changed) void notify(keygroup, id, sibling.tombstone ? '' : sibling.value);
        return changed;
      };
    },
  });
}

type ClusterOptions = {
  config: ClusterConfig;
  nodeId: string;
  dataDir: string;
  store: ReplicaStore;
  logger: Logger;
  /** fsync outbox appends as the store's commits (ENOKI_FSYNC). */
  fsync?: boolean;
};

/** A start that fails part-way closes what it opened (etcd client, outbox lock, servers), newest first. */
export async function startCluster(options: ClusterOptions): Promise<RunningCluster> {
  const undo: (() => unknown)[] = [];
  try {
    return await startClusterSteps(options, undo);
  } catch (err) {
    for (const step of undo.reverse()) await Promise.resolve().then(step).catch(() => undefined);
    throw err;
  }
}

async function startClusterSteps(options: ClusterOptions, undo: (() => unknown)[]): Promise<RunningCluster> {
  const { config, nodeId, dataDir, store } = options;
  const logger = options.logger.child({ component: 'cluster' });
  const tls = await readTlsMaterial(config.certsDir, nodeId);

  // FReD talks to etcd with the node's own certificate; a plain-http etcd (development) gets none.
  const etcdTls = config.etcd.every((e) => e.startsWith('https:')) ? { ca: tls.ca, cert: tls.cert, key: tls.key } : undefined;
  const naming = new EtcdNaming({ endpoints: config.etcd, tls: etcdTls, logger });
  undo.push(() => naming.close());
  await naming.start();
  const triggers = await FileTriggerStore.open(path.join(dataDir, 'triggers.json'));
  const caller = triggerCaller(config.certsDir, nodeId);
  undo.push(() => caller.close());
  const notify = createTriggerNotifier({ triggers, callTrigger: caller.call, logger });

  const outbox = new LevelOutbox({
    location: path.join(dataDir, 'outbox'),
    sync: options.fsync ?? false,
    onBackgroundError: (err) => logger.error({ err }, 'outbox: writing to LevelDB failed; retrying (the write journal keeps the writes)'),
  });
  await outbox.open();
  undo.push(() => outbox.close());
  const transport = new GrpcPeerTransport({
    resolve: async (id) => (await naming.getNode(id))?.address,
    credentials: (id) => clientCredentials(config.certsDir, nodeId, { serverNodeId: id }),
  });
  undo.push(() => transport.close());
  const membership = new NamingMembership(nodeId, naming);
  const engine = new ReplicationEngine({
    store: withTriggers(store, notify),
    transport,
    outbox,
    membership,
    missedWrites: membership,
    antiEntropyIntervalMs: config.antiEntropySeconds * 1000,
    logger,
  });
  undo.push(() => engine.stop());
  await engine.start();

  const peering = await startPeeringServer({
    host: '0.0.0.0',
    port: config.peeringPort,
    credentials: await serverCredentials(config.certsDir, nodeId),
    handler: engine,
    isClusterNode: async (id) => (await naming.getNode(id)) !== undefined,
    logger,
  });
  undo.push(() => peering.close());

  const clientApi = new grpc.Server(CLIENT_API_SERVER_OPTIONS);
  undo.push(() => clientApi.forceShutdown());
  clientApi.addService(
    clientService,
    createClientService({
      nodeId,
      store,
      naming,
      triggers,
      callTrigger: caller.call,
      userOf: (call) => {
        const cert = certificateOfCall(call);
        const check = checkUser(cert);
        if (!check.ok) return undefined;
        // FReD's client API serves a client only from an address its certificate names.
        if (config.checkClientAddress !== false && !certificateCoversAddress(cert, callerAddress(call.getPeer()))) {
          logger.debug({ user: check.user, peer: call.getPeer() }, 'client refused: its address is not in its certificate');
          return undefined;
        }
        return check.user;
      },
      replication: {
        writeLocal: async (applied: AppliedWrite[]) => {
          await engine.replicateLocal(applied, config.replicationMode);
        },
        joinKeygroup: async (keygroup, expiry) => {
          await engine.join(keygroup, expiry);
          await store.setKeygroupExpiry(keygroup, expiry);
        },
        leaveKeygroup: async (keygroup) => {
          // The engine may have dropped the copy already, on the membership change it watches.
          await store.deleteKeygroup(keygroup).catch((err: { code?: string }) => {
            if (err.code !== 'ERR_KEYGROUP_NOT_FOUND') throw err;
          });
        },
        inviteReplica: (keygroup, node, expiry) => engine.inviteReplica(keygroup, node, expiry),
        dropReplica: (keygroup, node) => engine.dropReplica(keygroup, node),
      },
      logger,
    }),
  );
  const clientApiPort = await bindServer(clientApi, `0.0.0.0:${config.clientApiPort}`, await serverCredentials(config.certsDir, nodeId));

  await naming.registerNode({
    id: nodeId,
    address: `${config.advertiseHost}:${peering.port}`,
    extAddress: `${config.advertiseHost}:${clientApiPort}`,
  });
  logger.info({ nodeId, peeringPort: peering.port, clientApiPort, etcd: config.etcd }, 'cluster services started');

  const remotes = new RemoteNodes({ nodeId, certsDir: config.certsDir, naming, deadlineMs: config.remoteKvDeadlineMs ?? DEFAULT_REMOTE_KV_DEADLINE_MS, logger });
  return {
    keygroups: new ClusterKeygroups({ nodeId, store, naming, engine, cloudNode: config.cloudNode, owner: config.keygroupOwner, remotes }),
    kvBackends: new ClusterKvBackends({ nodeId, naming, local: new LocalKvBackends(store), remotes }),
    replicator: {
      async replicate(applied) {
        await engine.replicateLocal(applied, config.replicationMode);
        for (const w of applied) void notify(w.keygroup, w.id, w.sibling.tombstone ? undefined : w.sibling.value);
      },
    },
    view: new NamingClusterView({ nodeId, naming, outbox, store }),
    peeringPort: peering.port,
    clientApiPort,
    async close() {
      await new Promise<void>((resolve) => clientApi.tryShutdown(() => resolve()));
      await peering.close();
      remotes.close();
      await engine.stop();
      await outbox.close();
      await transport.close();
      caller.close();
      await naming.close();
    },
  };
}
