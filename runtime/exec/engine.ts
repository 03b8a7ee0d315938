// The execution engine port: runs one call of a guest function and answers with its response or
// a classified failure. Two adapters: the inline engine (inline/inline-engine.ts) runs metered
// guests on the event loop, suspending them through JSPI while they wait; the worker pool
// (worker-pool.ts) runs them on worker threads, for Nodes without JSPI and for components this
// host cannot link itself. EngineRouter (engine-router.ts) picks one per function.

import type { ArtifactMeta } from '../functions/artifact-store.js';
import type { GuestEvent, GuestFailure, GuestRequest, GuestResponse, InvokeCall, InvokeReply, KvCall, KvReply, LoadSpec, LogLine, EventAnswer } from './protocol.js';

export interface Job {
  /** Whose warm instances the call may run on: one function version's (code-cache.ts instanceKeyOf). */
  instanceKey: string;
  meta: ArtifactMeta;
  /** Compiled modules and glue for a worker; called when the chosen worker is cold for instanceKey. */
  loadSpec: () => Promise<LoadSpec>;
  /** Absent for a prewarm job: the engine loads an instance and calls nothing. */
  request?: GuestRequest;
  env: [string, string][];
  /** A job without a request (a load only) gets at least LOAD_TIMEOUT_MS. */
  timeoutMs: number;
  memoryLimitBytes: number;
  /** Log text the call keeps; later lines are dropped and the result says logsTruncated. */
  maxLogBytes: number;
  kv: (call: KvCall) => KvReply | Promise<KvReply>;
  /** Serves the guest's `invoke` calls; `remainingMs` is what is left of this job's timeout. */
  invoke?: (call: InvokeCall, remainingMs: number) => Promise<InvokeReply>;
  /** A callee whose caller waits for it: served first, may exceed the usual limits. */
  nested?: boolean;
  /**
   * wasi:http guests (worker engine): with `stream`, the response head and body arrive as events
   * while the call runs and the result's response has an empty body; `events` also gets the
   * guest's outgoing requests, answered through `answer`. A body chunk is answered once the
   * client has taken it: the guest may write ahead of the client by a window only.
   */
  stream?: boolean;
  events?: (event: GuestEvent, answer: (message: EventAnswer) => void) => void;
  /** Largest body of a guest's outgoing HTTP request, bytes. */
  maxBodyBytes?: number;
}

export type FailureKind = GuestFailure | 'timeout' | 'crash';

export interface JobResult {
  response?: GuestResponse;
  failure?: { kind: FailureKind; message: string };
  cold: boolean;
  logs: LogLine[];
  logsTruncated: boolean;
  /** Time spent waiting for a free worker or instance, ms. */
  queuedMs: number;
}

/** A load-only job (prewarm, warming) may take as long as a cold call would, but no less than this. */
export const LOAD_TIMEOUT_MS = 30_000;

export interface EngineStats {
  workers: number;
  busy: number;
  queued: number;
  warmInstances: number;
  warmMemoryBytes: number;
  channelFaults: number;
  /** Distinct compiled core modules the inline engine's loaded functions hold (0 on workers). */
  compiledModules: number;
  /** Engines the node's warm-up has run a function of since the start (inline engine only). */
  warmedEngines: number;
  /** Calls of inline functions run on a worker instead, since the start (engine-router.ts). */
  offloadedCalls?: number;
}

export interface GuestEngine {
  run(job: Job): Promise<JobResult>;
  /** Loads a warm instance in the background; resolves false when it was not done. */
  prewarm(job: Omit<Job, 'request'>): Promise<boolean>;
  /**
   * Has the code of the engine the job's function runs on compiled, by running the function once
   * within `limitMs` on an instance then thrown away; keeps no instance. Once per engine: resolves
   * true when this call ran one, false when it was not needed (done before for another function
   * of the engine, or small code) or not possible here (a worker's code, on another thread).
   */
  warmEngine?(job: Omit<Job, 'request'>, limitMs: number): Promise<boolean>;
  /**
   * Does at deploy what the component's first call would otherwise do once for every later one:
   * for the inline engine, the analysis of its code and the template of its engine, kept on disk.
   */
  prepare?(meta: Job['meta']): Promise<void>;
  /** Drops warm instances of code that will not run again. */
  evict(instanceKey: string): void;
  stats(): EngineStats;
  stop(): Promise<void>;
}
