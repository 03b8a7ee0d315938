// One replica node reached over FReD's client API, as the calls a function's key-value interface
// makes; the one place where the gRPC statuses of those calls become kv-errors.

import * as grpc from '@grpc/grpc-js';
import type { GrpcClientApiClient } from '../../replication/client-api/grpc-client.js';
import { GrpcCallError } from '../../replication/grpc/call.js';
import { KvFault } from '../kv/invocation-kv.js';
import type { KvSibling } from '../kv/kv-backend.js';
import type { RemoteReplica } from '../kv/remote-kv-backend.js';

const isNotFound = (err: unknown) => err instanceof GrpcCallError && err.code === grpc.status.NOT_FOUND;

export class GrpcRemoteReplica implements RemoteReplica {
  constructor(
    readonly node: string,
    private readonly client: () => Promise<GrpcClientApiClient>,
  ) {}

  /**
   * Anything else than the expected NOT_FOUND is `unavailable` for the guest: the node is down or
   * too slow (UNAVAILABLE, DEADLINE_EXCEEDED), or refuses for a reason that is the cluster's
   * setup, not the guest's (no longer a replica, permissions). Ids and values were checked here.
   */
  #fault(err: unknown, what: string): KvFault {
    if (err instanceof KvFault) return err;
    const reason = err instanceof GrpcCallError ? `${grpc.status[err.code] ?? err.code}: ${err.details}` : (err as Error).message;
    return new KvFault('unavailable', `${what} on node ${this.node} failed: ${reason}`);
  }

  async read(keygroup: string, id: string): Promise<KvSibling[]> {
    try {
      return await (await this.client()).read(keygroup, id);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw this.#fault(err, `read of ${id}`);
    }
  }

  async scan(keygroup: string, start: string, count: number): Promise<{ id: string; siblings: KvSibling[] }[]> {
    let items;
    try {
      items = await (await this.client()).scan(keygroup, start, count);
    } catch (err) {
      if (isNotFound(err)) throw new KvFault('not-found', `scan start "${start}" does not exist on node ${this.node}`);
      throw this.#fault(err, `scan from ${start}`);
    }
    // The client API sends one entry per sibling, in id order.
    const grouped: { id: string; siblings: KvSibling[] }[] = [];
    for (const { id, value, version } of items) {
      const last = grouped[grouped.length - 1];
      if (last?.id === id) last.siblings.push({ value, version });
      else grouped.push({ id, siblings: [{ value, version }] });
    }
    return grouped;
  }

  async update(keygroup: string, id: string, value: string): Promise<void> {
    try {
      await (await this.client()).update(keygroup, id, value);
    } catch (err) {
      throw this.#fault(err, `update of ${id}`);
    }
  }

  async delete(keygroup: string, id: string): Promise<void> {
    try {
      await (await this.client()).delete(keygroup, id);
    } catch (err) {
      if (isNotFound(err)) return;
      throw this.#fault(err, `delete of ${id}`);
    }
  }

  async append(keygroup: string, id: string, value: string): Promise<void> {
    try {
      await (await this.client()).append(keygroup, id, value);
    } catch (err) {
      throw this.#fault(err, `append of ${id}`);
    }
  }
}
