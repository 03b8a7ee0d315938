// Channels to other nodes' FReD client APIs, for functions whose keygroup another node serves:
// one channel per node, opened on first use with this node's certificate (the server must present
// that node's), kept open across invocations and replaced when the node registers a new address.

import type { Logger } from 'pino';
import { GrpcClientApiClient } from '../../replication/client-api/grpc-client.js';
import type { NamingService } from '../../replication/naming/port.js';
import { clientCredentials } from '../../replication/security/policy.js';

export interface RemoteNodesOptions {
  nodeId: string;
  certsDir: string;
  naming: NamingService;
  /** Deadline of each call, ms. */
  deadlineMs: number;
  logger: Logger;
}

export class RemoteNodes {
  readonly #clients = new Map<string, { address: string; client: Promise<GrpcClientApiClient> }>();

  constructor(private readonly options: RemoteNodesOptions) {}

  /** Whether `node` is registered with a client-API address. */
  async exists(node: string): Promise<boolean> {
    return (await this.options.naming.getNode(node)) !== undefined;
  }

  /** The client of `node`'s client API; rejects when the node is not registered. */
  async client(node: string): Promise<GrpcClientApiClient> {
    const record = await this.options.naming.getNode(node);
    if (!record) throw new Error(`node ${node} is not registered in the cluster`);
    const cached = this.#clients.get(node);
    if (cached?.address === record.extAddress) return cached.client;
    if (cached) void cached.client.then((c) => c.close(), () => undefined);
    const { nodeId, certsDir, deadlineMs, logger } = this.options;
    const client = clientCredentials(certsDir, nodeId, { serverNodeId: node }).then(
      (credentials) => new GrpcClientApiClient(record.extAddress, credentials, { deadlineMs }),
    );
    // A failed setup (certificate files) is retried by the next call rather than remembered.
    client.catch(() => this.#clients.get(node)?.client === client && this.#clients.delete(node));
    this.#clients.set(node, { address: record.extAddress, client });
    logger.debug({ peer: node, address: record.extAddress }, 'client-API channel for remote key-value calls');
    return client;
  }

  close(): void {
    for (const { client } of this.#clients.values()) void client.then((c) => c.close(), () => undefined);
    this.#clients.clear();
  }
}
