// Serves the guest side of `invoke`: a call runs the callee as an invocation of its own (its own KV
// overlay and log entry), on this node when the function is deployed here, else on the node its
// name is routed to. Failures come back to the caller as a WIT `call-error`, never as a trap.

import { randomUUID } from 'node:crypto';
import { EnokiError } from '../errors.js';
import type { GuestRequest, GuestResponse, InvokeCall, InvokeReply } from '../exec/protocol.js';
import { checkFunctionName } from '../functions/registry.js';
import type { AsyncInvocations } from './async-invocations.js';
import type { CallContext, Caller, GuestCallHandler } from './call-context.js';
import { toCallError } from './call-errors.js';

/** Functions of other nodes (runtime/invoke/http-remote-functions.ts). */
export interface RemoteFunctions {
  /** Whether calls to `name` go to another node. */
  routes(name: string): boolean;
  call(name: string, request: GuestRequest, context: CallContext): Promise<GuestResponse>;
  /** Starts `name` asynchronously on its node, waiting at most `waitMs` for it to accept; the id is that node's. */
  callAsync(name: string, request: GuestRequest, context: CallContext, waitMs: number): Promise<string>;
}

export interface GuestCallsDeps {
  /** Whether a function of that name is deployed on this node (local functions win over routes). */
  isLocal(name: string): boolean;
  /** Runs a local invocation (Invoker.invoke). */
  invoke(name: string, request: GuestRequest, invocationId: string, context: CallContext): Promise<{ response: GuestResponse }>;
  asyncResults: AsyncInvocations;
  /**
   * The owner tag of a call-async's result, from the call's own request (its Authorization
   * header): who may read it besides the admin token (http/result-access.ts).
   */
  resultOwner(request: GuestRequest): string;
  /** Whether the worker queue takes another invocation now. */
  hasRoom(): boolean;
  remote?: RemoteFunctions;
  /** Longest chain of calls, counted from the function a request started. */
  maxDepth: number;
}

export class GuestCalls implements GuestCallHandler {
  constructor(private readonly deps: GuestCallsDeps) {}

  async handle(call: InvokeCall, caller: Caller, remainingMs: number): Promise<InvokeReply> {
    try {
      const value = call.op === 'call' ? await this.#call(call, caller, remainingMs) : await this.#callAsync(call, caller, remainingMs);
      return { ok: true, value };
    } catch (err) {
      return { ok: false, error: toCallError(err) };
    }
  }

  #target(call: InvokeCall, caller: Caller): { local: boolean; depth: number } {
    checkFunctionName(call.function);
    const depth = caller.depth + 1;
    if (depth > this.deps.maxDepth) {
      throw new EnokiError(
        'ERR_CALL_TOO_DEEP',
        `${caller.fn} cannot call ${call.function}: the call chain would be ${depth} calls deep, the limit is ${this.deps.maxDepth}`,
      );
    }
    const local = this.deps.isLocal(call.function);
    if (!local && !this.deps.remote?.routes(call.function)) {
      throw new EnokiError('ERR_FUNCTION_NOT_FOUND', `no function named "${call.function}" on this node, and no route for it`);
    }
    return { local, depth };
  }

  async #call(call: InvokeCall, caller: Caller, remainingMs: number): Promise<GuestResponse> {
    const { local, depth } = this.#target(call, caller);
    if (remainingMs < 1) throw new EnokiError('ERR_TIMEOUT', `${caller.fn} has no time left to call ${call.function}`);
    const context: CallContext = { callerId: caller.invocationId, depth, remainingMs, nested: true };
    if (!local) return this.deps.remote!.call(call.function, call.request, context);
    return (await this.deps.invoke(call.function, call.request, randomUUID(), context)).response;
  }

  async #callAsync(call: InvokeCall, caller: Caller, remainingMs: number): Promise<string> {
    const { local, depth } = this.#target(call, caller);
    // Not waited for: the callee takes its own timeout and an ordinary worker.
    const context: CallContext = { callerId: caller.invocationId, depth, nested: false };
    if (!local) return this.deps.remote!.callAsync(call.function, call.request, context, remainingMs);
    if (!this.deps.hasRoom()) throw new EnokiError('ERR_OVERLOADED', 'too many invocations waiting for a worker');
    const invocationId = randomUUID();
    // The place is claimed before the callee starts, so a refused call runs nothing.
    await this.deps.asyncResults.submit(invocationId, call.function, this.deps.resultOwner(call.request), async () => {
      return (await this.deps.invoke(call.function, call.request, invocationId, context)).response;
    });
    return invocationId;
  }
}
