// What every group of RPC handlers receives: the dependencies with defaults filled in, the access
// checks and the trigger notifier, plus the shape of a handler.
import type { NamingService } from '../naming/port.js';
import type { AppliedWrite, ReplicaStore } from '../store/port.js';
import type { Access } from './access.js';
import type { ClientApiLogger, ClientReplication } from './deps.js';
import type { NotifyTriggers, TriggerStore } from './triggers.js';

export interface RpcContext {
  nodeId: string;
  store: ReplicaStore;
  naming: NamingService;
  replication: ClientReplication;
  triggers: TriggerStore;
  notifyTriggers: NotifyTriggers;
  access: Access;
  maxValueBytes: number;
  clock: () => number;
  logger: ClientApiLogger;
}

/** A unary RPC after decoding and authentication: the wire request and the calling user. */
export type Handler<Req = never, Res = unknown> = (request: Req, user: string) => Promise<Res>;

/**
 * After a write is durable here: hand it to replication, then tell the triggers. Neither can fail
 * the call any more: the write is committed and visible, so an error answer would be a lie that
 * makes clients retry a write that happened. Replication misses are repaired by anti-entropy.
 */
export async function afterWrite(ctx: RpcContext, applied: AppliedWrite[]): Promise<void> {
  try {
    await ctx.replication.writeLocal(applied);
  } catch (err) {
    const { keygroup, id } = applied[0] ?? {};
    ctx.logger.error({ err, keygroup, id }, 'replicating a committed write failed; peers get it later');
  }
  for (const { keygroup, id, sibling } of applied) {
    await ctx.notifyTriggers(keygroup, id, sibling.tombstone ? undefined : sibling.value);
  }
}

/** Best-effort work after the authoritative change succeeded: failures are logged, not returned. */
export async function bestEffort(ctx: RpcContext, what: string, fields: object, action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (err) {
    ctx.logger.warn({ err, ...fields }, what);
  }
}
