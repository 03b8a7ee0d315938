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
 * After a write is durable here: hand it to replication, then tell the triggers. Replication
 * queues the write durably for every other replica (unreachable ones get it later); if even that
 * failed, the client is told with an error, as FReD answers a failed relay, although the write is
 * committed here (anti-entropy spreads it): an acknowledged write is one that is replicated or queued.
 */
export async function afterWrite(ctx: RpcContext, applied: AppliedWrite[]): Promise<void> {
  let failure: unknown;
  try {
    await ctx.replication.writeLocal(applied);
  } catch (err) {
    const { keygroup, id } = applied[0] ?? {};
    ctx.logger.error({ err, keygroup, id }, 'a committed write could not be queued for the other replicas');
    failure = err;
  }
  for (const { keygroup, id, sibling } of applied) {
    await ctx.notifyTriggers(keygroup, id, sibling.tombstone ? undefined : sibling.value);
  }
  if (failure !== undefined) throw failure;
}

/** Best-effort work after the authoritative change succeeded: failures are logged, not returned. */
export async function bestEffort(ctx: RpcContext, what: string, fields: object, action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (err) {
    ctx.logger.warn({ err, ...fields }, what);
  }
}
