// One replica node reached over FReD's client API, as the calls a function's key-value interface
// makes; the one place where the gRPC statuses of those calls become kv-errors.

import * as grpc from '@grpc/grpc-js';
import type { GrpcClientApiClient } from '../../replication/client-api/grpc-client.js';
import { GrpcCallError } from '../../replication/grpc/call.js';
import { KvFault } from '../kv/invocation-kv.js';
import type { KvSibling } from '../kv/kv-backend.js';
import type { Version } from '../../replication/store/port.js';
import type { RemoteReplica } from '../kv/remote-kv-backend.js';

/**
 * FReD (v0.2.19) answers every failure with status UNKNOWN; only its message tells an absent
 * item apart from a real failure. These are its messages for "no such item" on Read, Delete and
 * Scan (whose start must exist); an Enoki node answers NOT_FOUND. The one place Enoki reads a
 * status from message text, because a FReD node gives nothing else.
 */
const FRED_NOT_FOUND = [/^item \S+ not found in keygroup /, /^item does not exist so it cannot be deleted/, /^error scanning \d+ items starting at /];

export function isNotFound(err: unknown): boolean {
  if (!(err instanceof GrpcCallError)) return false;
  if (err.code === grpc.status.NOT_FOUND) return true;
  return err.code === grpc.status.UNKNOWN && FRED_NOT_FOUND.some((pattern) => pattern.test(err.details));
}
/**
 * A refused conditional Update: FAILED_PRECONDITION from an Enoki node; a FReD node answers
 * every failure with UNKNOWN, so from it any UNKNOWN counts as a refusal.
 */
const isRefused = (err: unknown) =>
  err instanceof GrpcCallError && (err.code === grpc.status.FAILED_PRECONDITION || err.code === grpc.status.UNKNOWN);

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

  /** One client-API call; a NOT_FOUND answer is `notFound`'s to handle when given. */
  async #call<T>(what: string, call: (client: GrpcClientApiClient) => Promise<T>, notFound?: () => T): Promise<T> {
    try {
      return await call(await this.client());
    } catch (err) {
      if (notFound && isNotFound(err)) return notFound();
      throw this.#fault(err, what);
    }
  }

  read(keygroup: string, id: string): Promise<KvSibling[]> {
    return this.#call(`read of ${id}`, (c) => c.read(keygroup, id), () => []);
  }

  async scan(keygroup: string, start: string, count: number): Promise<{ id: string; siblings: KvSibling[] }[]> {
    const items = await this.#call(`scan from ${start}`, (c) => c.scan(keygroup, start, count), () => {
      throw new KvFault('not-found', `scan start "${start}" does not exist on node ${this.node}`);
    });
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
    await this.#call(`update of ${id}`, (c) => c.update(keygroup, id, value));
  }

  /** An item already gone is the state the delete asked for. */
  async delete(keygroup: string, id: string): Promise<void> {
    await this.#call(`delete of ${id}`, (c) => c.delete(keygroup, id), () => undefined);
  }

  async append(keygroup: string, id: string, value: string): Promise<void> {
    await this.#call(`append of ${id}`, (c) => c.append(keygroup, id, value));
  }

  async updateIf(keygroup: string, id: string, value: string, versions: Version[]): Promise<boolean> {
    try {
      await (await this.client()).updateIf(keygroup, id, value, versions);
      return true;
    } catch (err) {
      if (isRefused(err)) return false;
      throw this.#fault(err, `conditional update of ${id}`);
    }
  }
}
