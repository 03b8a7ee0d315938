// Serves FReD's client API (mcc.fred.client.Client): authenticates each call, runs its handler and
// turns every failure into a gRPC status, so no request, however malformed, can crash the node.
import * as grpc from '@grpc/grpc-js';
import { clientService } from '../grpc/protos.js';
import { DEFAULT_MAX_VALUE_BYTES } from '../store/version.js';
import { Access } from './access.js';
import type { RpcContext, Handler } from './context.js';
import { createDataRpcs } from './data-rpcs.js';
import { silentLogger, type ClientApiDeps, type ClientApiLogger } from './deps.js';
import { toClientServiceError } from './errors.js';
import { createKeygroupRpcs } from './keygroup-rpcs.js';
import { createTriggerNotifier } from './triggers.js';
import { createTriggerUserRpcs } from './trigger-user-rpcs.js';

export { clientService } from '../grpc/protos.js';

/**
 * grpc-js refuses incoming messages above 4 MiB by default, but an Update may carry a value of
 * the store's default maximum (4 MiB) plus framing. Pass these to `new grpc.Server(...)`.
 */
export const CLIENT_API_SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
};

/** The implementation to register with `server.addService(clientService, ...)`. */
export function createClientService(deps: ClientApiDeps): grpc.UntypedServiceImplementation {
  // Versions of local writes tick the store's node id; a different id here would split the clock.
  if (deps.store.nodeId !== deps.nodeId) {
    throw new TypeError(`client API node id ${deps.nodeId} differs from the store's node id ${deps.store.nodeId}`);
  }
  const logger = deps.logger ?? silentLogger;
  const ctx: RpcContext = {
    nodeId: deps.nodeId,
    store: deps.store,
    naming: deps.naming,
    replication: deps.replication,
    triggers: deps.triggers,
    notifyTriggers: createTriggerNotifier({ triggers: deps.triggers, callTrigger: deps.callTrigger, logger }),
    access: new Access(deps.nodeId, deps.store, deps.naming, deps.userOf),
    maxValueBytes: deps.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
    clock: deps.clock ?? Date.now,
    logger,
  };
  const handlers: Record<string, Handler<never>> = {
    ...createKeygroupRpcs(ctx),
    ...createDataRpcs(ctx),
    ...createTriggerUserRpcs(ctx),
  };

  // The .proto and the handlers must name the same methods: a gap would answer UNIMPLEMENTED.
  const missing = Object.keys(clientService).filter((m) => !Object.hasOwn(handlers, m));
  const extra = Object.keys(handlers).filter((m) => !Object.hasOwn(clientService, m));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(`client API handlers out of step with client.proto: missing ${missing.join(', ') || '-'}, extra ${extra.join(', ') || '-'}`);
  }

  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    implementation[method] = unary(method, handler, ctx.access, logger);
  }
  return implementation;
}

function unary(method: string, handler: Handler<never>, access: Access, logger: ClientApiLogger): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    // Everything, identification included, runs inside the promise: a throwing or rejecting
    // handler becomes a status for this call, never an unhandled rejection that ends the process.
    void (async () => {
      let response: unknown;
      try {
        const user = access.user(call);
        response = await handler(call.request as never, user);
      } catch (error) {
        const status = toClientServiceError(error, method);
        if (status.code === grpc.status.INTERNAL) safeLog(logger, { err: error, fn: method }, 'client API call failed unexpectedly');
        callback(status);
        return;
      }
      callback(null, response);
    })().catch((err: unknown) => safeLog(logger, { err, fn: method }, 'client API could not answer a call'));
  };
}

/** A logger that throws must not turn a failed call into a crashed node either. */
function safeLog(logger: ClientApiLogger, fields: object, message: string): void {
  try {
    logger.error(fields, message);
  } catch {
    // Nothing left to tell: the caller already has its status.
  }
}
