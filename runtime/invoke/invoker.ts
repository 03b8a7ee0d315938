// Runs one invocation end to end: resolve the active version, run it on the execution engine with a
// fresh key-value overlay, commit the overlay before answering, and record metrics and logs.
// A function called by another one is an invocation like any other; its CallContext caps its
// timeout by the caller's remaining time and marks it nested, which the engine serves first.

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { EnokiError, type ErrorCode } from '../errors.js';
import { instanceKeyOf, type CodeCache } from '../exec/worker/code-cache.js';
import type { EventAnswer, GuestEvent, GuestRequest, GuestResponse } from '../exec/protocol.js';
import type { GuestEngine, Job, JobResult } from '../exec/engine.js';
import { HTTP_WORLD, worldOf } from '../functions/worlds.js';
import { isWasiKeyvalueOp } from '../kv/wasi-keyvalue-mapping.js';
import { WasiKeyvalue } from '../kv/wasi-keyvalue.js';
import { OutgoingHttpDenied, sendOutgoingHttp } from './outgoing-http.js';
import { ResponseRelay } from './response-relay.js';
import type { ArtifactStore } from '../functions/artifact-store.js';
import { activeVersion, type FunctionRegistry, type FunctionVersion } from '../functions/registry.js';
import { InvocationKv, type InvocationKvLimits } from '../kv/invocation-kv.js';
import type { WriteReplicator } from '../kv/keygroups.js';
import type { KvBackends } from '../kv/kv-backend.js';
import type { InvocationLogs } from '../observe/invocation-logs.js';
import type { Metrics } from '../observe/metrics.js';
import type { CallContext, GuestCallHandler } from './call-context.js';

export interface Invocation {
  invocationId: string;
  /** With a ResponseStream for a wasi:http function: the head only, the body went to the stream. */
  response: GuestResponse;
  cold: boolean;
  version: string;
  streamed: boolean;
}

/**
 * Takes a wasi:http function's response while it is produced. The invocation's promise settles
 * after the last chunk: resolved once its writes are committed, rejected when the call failed.
 */
export interface ResponseStream {
  head(head: StreamedHead): void;
  /**
   * `taken` is called once the client has taken the chunk, or it was dropped (`closed`: the
   * client has gone): flow control.
   */
  chunk(bytes: Uint8Array, taken: (closed?: boolean) => void): void;
}

export interface StreamedHead {
  status: number;
  headers: [string, string][];
  cold: boolean;
  version: string;
}

const FAILURE_CODES: Record<NonNullable<JobResult['failure']>['kind'], ErrorCode> = {
  error: 'ERR_GUEST_ERROR',
  trap: 'ERR_GUEST_TRAP',
  crash: 'ERR_WORKER_CRASHED',
  load: 'ERR_GUEST_TRAP',
  memory: 'ERR_MEMORY_LIMIT',
  'bad-response': 'ERR_GUEST_BAD_RESPONSE',
  timeout: 'ERR_TIMEOUT',
};

export interface InvokerDeps {
  registry: Pick<FunctionRegistry, 'get' | 'require'>;
  artifacts: Pick<ArtifactStore, 'cached' | 'get'>;
  code: CodeCache;
  engine: GuestEngine;
  metrics: Metrics;
  logs: InvocationLogs;
  kvLimits: InvocationKvLimits;
  /** Log text one invocation keeps, bytes. */
  logBytesPerInvocation: number;
  /** Where each function's keygroup is served from: the local replica or another node's. */
  kvBackends: KvBackends;
  replicator: WriteReplicator;
  logger: Logger;
  /** Serves guests' `invoke` calls; without it every call fails as `unavailable`. */
  calls?: GuestCallHandler;
  /** Largest body of a wasi:http guest's outgoing request or of its answer, bytes. */
  maxBodyBytes: number;
}

/** What every call of a function version derives from it, worked out at its first call. */
interface VersionFacts {
  memoryLimitBytes: number;
  instanceKey: string;
  env: [string, string][];
}

export class Invoker {
  /**
   * By version object (a redeploy or rollback makes another one): a call would otherwise build its
   * code key, a string the engine then hashes afresh to find the code, and its environment list.
   */
  readonly #versions = new WeakMap<FunctionVersion, VersionFacts>();

  constructor(private readonly deps: InvokerDeps) {}

  #facts(name: string, version: FunctionVersion): VersionFacts {
    let facts = this.#versions.get(version);
    if (!facts) {
      const memoryLimitBytes = version.options.memoryMiB * 1024 * 1024;
      facts = { memoryLimitBytes, instanceKey: instanceKeyOf(name, version, memoryLimitBytes), env: Object.entries(version.options.env) };
      this.#versions.set(version, facts);
    }
    return facts;
  }

  async invoke(
    name: string,
    request: GuestRequest,
    invocationId: string = randomUUID(),
    context?: CallContext,
    stream?: ResponseStream,
  ): Promise<Invocation> {
    const { registry, artifacts, code, engine, metrics, logs } = this.deps;
    const started = performance.now();
    const record = registry.require(name);
    const version = activeVersion(record);
    const { options } = version;
    let cold = false;
    let status = 500;
    let lines: JobResult['logs'] = [];
    let truncated = false;
    const caller = context?.callerId;
    try {
      const meta = artifacts.cached(version.digest) ?? (await artifacts.get(version.digest));
      if (!meta) throw new EnokiError('ERR_INTERNAL', `the artefact of ${name} ${version.id} is missing`);
      const opened = this.deps.kvBackends.open(options);
      const { backend, keygroup } = opened instanceof Promise ? await opened : opened;
      // Atomic operations are applied during the call; their writes go to replication at once.
      const kv = new InvocationKv(backend, keygroup, this.deps.kvLimits, (applied) =>
        this.deps.replicator.replicate(applied).catch((err: unknown) => {
          this.deps.logger.error({ fn: name, invocationId, err }, 'atomic writes not handed to replication');
        }),
      );
      const { memoryLimitBytes, instanceKey, env } = this.#facts(name, version);
      // Rounded up: a callee capped by its caller's deadline never ends before the caller does, so
      // the caller's own timeout, not a call-error, is what ends it.
      const timeoutMs =
        context?.remainingMs === undefined ? options.timeoutMs : Math.max(1, Math.min(options.timeoutMs, Math.ceil(context.remainingMs)));
      const calls = this.deps.calls;
      const self = { fn: name, invocationId, depth: context?.depth ?? 0 };
      // Made at the first wasi:keyvalue call: components of Enoki's own world never make one.
      let wasiKv: WasiKeyvalue | undefined;
      const streamed = stream !== undefined && worldOf(meta) === HTTP_WORLD;
      const deadline = performance.now() + timeoutMs;
      const denied: string[] = [];
      // The client of a streamed response went away: the guest's writes failed from then on.
      let clientGone = false;
      const relay = new ResponseRelay(streamed ? stream : undefined, () => kv.writeCount > 0, version.id, memoryLimitBytes);
      const events = (event: GuestEvent, answer: (message: EventAnswer) => void) => {
        if (event.kind === 'head') relay.head(event);
        else if (event.kind === 'chunk') {
          const taken = event.bytes.byteLength;
          relay.chunk(event.bytes, (closed) => {
            clientGone ||= closed === true;
            answer(closed ? { taken, closed } : { taken });
          });
        }
        else {
          const policy = { allowedHosts: options.allowedHosts ?? [], maxBodyBytes: this.deps.maxBodyBytes, remainingMs: () => deadline - performance.now() };
          sendOutgoingHttp(event.request, policy).then(
            (result) => answer({ fetchId: event.fetchId, result }),
            (err: unknown) => {
              if (err instanceof OutgoingHttpDenied) denied.push(err.message);
              const error = err instanceof OutgoingHttpDenied ? { tag: 'HTTP-request-denied' } : { tag: 'internal-error', val: String(err) };
              answer({ fetchId: event.fetchId, result: { ok: false, error } });
            },
          );
        }
      };
      const result = await engine.run({
        instanceKey,
        meta,
        loadSpec: () => code.load(meta, memoryLimitBytes),
        request,
        env,
        timeoutMs,
        memoryLimitBytes,
        maxLogBytes: this.deps.logBytesPerInvocation,
        kv: (call) => (isWasiKeyvalueOp(call.op) ? (wasiKv ??= new WasiKeyvalue(kv, this.deps.kvLimits.maxScanCount)).handle(call) : kv.handle(call)),
        invoke: calls && ((call, remainingMs) => calls.handle(call, self, remainingMs)),
        nested: context?.nested,
        stream: streamed,
        events,
        maxBodyBytes: this.deps.maxBodyBytes,
      });
      cold = result.cold;
      lines = denied.length > 0 ? [...result.logs, ...denied.map((message) => ({ stream: 'error' as const, message: `ERR_HTTP_HOST_NOT_ALLOWED: ${message}` }))] : result.logs;
      truncated = result.logsTruncated;
      if (result.failure || !result.response || relay.overflow) {
        // A held body past its limit is why the guest was stopped, whatever it did after.
        const failure = relay.overflow ? { kind: 'bad-response' as const, message: relay.overflow } : (result.failure ?? { kind: 'bad-response' as const, message: 'no response' });
        // The guest failed after a refused request: that refusal is most likely why.
        if (denied.length > 0 && failure.kind !== 'timeout') {
          throw new EnokiError('ERR_HTTP_HOST_NOT_ALLOWED', `${name}: ${denied[0]} (allow it at deploy with allowHost=); then: ${failure.message}`, { invocationId });
        }
        const after = clientGone ? ' (after its client had gone: its writes to the response failed from then on)' : '';
        throw new EnokiError(FAILURE_CODES[failure.kind], `${name}: ${failure.message}${after}`, { invocationId });
      }
      let applied;
      try {
        applied = kv.writeCount > 0 ? await kv.commit() : [];
      } catch (err) {
        throw new EnokiError('ERR_COMMIT_FAILED', `${name}: its writes could not be committed: ${(err as Error).message}`, {
          invocationId,
        });
      }
      // Committed locally; the replicator queues the writes durably for the peers (and in sync
      // mode waits for reachable ones). If even queueing failed, the caller gets an error rather
      // than an acknowledgment: the writes stay committed here and anti-entropy spreads them.
      if (applied.length > 0) {
        await this.deps.replicator.replicate(applied).catch((err: unknown) => {
          this.deps.logger.error({ fn: name, invocationId, err }, 'committed writes not handed to replication');
          throw new EnokiError('ERR_INTERNAL', `writes committed on this node could not be queued for its replicas: ${(err as Error)?.message ?? err}`);
        });
      }
      const response = relay.held() ?? result.response;
      status = response.status;
      this.#record(name, version.id, invocationId, started, status, cold, lines, truncated, caller);
      return { invocationId, response, cold, version: version.id, streamed: relay.streamed };
    } catch (err) {
      const error = err instanceof EnokiError ? err : new EnokiError('ERR_INTERNAL', (err as Error).message);
      this.#record(name, version.id, invocationId, started, error.status, cold, lines, truncated, caller, error);
      throw error;
    }
  }

  /**
   * Loads a warm instance of the function's active version in the background, so its first call
   * does not pay for compiling and instantiating. Failures only cost that: the call loads it again.
   */
  async prewarm(name: string): Promise<boolean> {
    const job = await this.#loadJob(name);
    if (!job) return false;
    const warmed = await this.deps.engine.prewarm(job);
    this.deps.logger.debug({ fn: name, warmed }, 'prewarmed');
    return warmed;
  }

  /**
   * Has the engine the function's active version runs on compiled and run once (engine.ts
   * warmEngine), without keeping an instance: resolves true when that was done for this function,
   * false when its engine needed no warming or was warmed through another function.
   */
  async warmEngine(name: string, limitMs: number): Promise<boolean> {
    const job = await this.#loadJob(name);
    return job !== undefined && (await this.deps.engine.warmEngine?.(job, limitMs)) === true;
  }

  /** A job that calls nothing, for the function's active version; undefined when it has none. */
  async #loadJob(name: string): Promise<Omit<Job, 'request'> | undefined> {
    const record = this.deps.registry.get(name);
    if (!record) return undefined;
    const version = activeVersion(record);
    const meta = await this.deps.artifacts.get(version.digest);
    if (!meta) return undefined;
    const { memoryLimitBytes, instanceKey, env } = this.#facts(name, version);
    return {
      instanceKey,
      meta,
      loadSpec: () => this.deps.code.load(meta, memoryLimitBytes),
      env,
      timeoutMs: version.options.timeoutMs,
      memoryLimitBytes,
      maxLogBytes: this.deps.logBytesPerInvocation,
      kv: async () => ({ ok: false, error: { tag: 'unavailable', val: 'no key-value access while the instance is being loaded' } }),
    };
  }

  #record(
    fn: string,
    version: string,
    invocationId: string,
    started: number,
    status: number,
    cold: boolean,
    lines: JobResult['logs'],
    truncated: boolean,
    caller: string | undefined,
    error?: EnokiError,
  ): void {
    const durationMs = performance.now() - started;
    this.deps.metrics.record({ fn, durationMs, cold, errorCode: error?.code });
    // One shape for every entry (absent fields undefined, which JSON leaves out).
    this.deps.logs.add(fn, {
      invocationId,
      at: Date.now(),
      version,
      durationMs: Math.round(durationMs * 1000) / 1000,
      status,
      cold,
      lines,
      truncated,
      caller,
      error: error && { code: error.code, message: error.message },
    });
    if (error?.blame === 'host') this.deps.logger.error({ fn, invocationId, err: error }, 'invocation failed');
    // Traps, timeouts and memory exhaustion are the operator's business too; an `err` the
    // function returned on purpose is its own (in its log, not the node's).
    else if (error?.blame === 'guest' && error.code !== 'ERR_GUEST_ERROR') this.deps.logger.warn({ fn, invocationId, code: error.code, message: error.message }, 'guest failed');
    else if (error) this.deps.logger.debug({ fn, invocationId, code: error.code }, 'invocation failed');
  }
}
