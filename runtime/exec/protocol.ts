// Messages between the executor (main thread) and its guest workers.

import type { WorldName } from '../functions/worlds.js';
import type { ErrorCode, OutgoingHttpRequest, OutgoingHttpResult, RequestTimeouts } from './worker/worlds/http-types.js';

/** What a worker needs to load one function version: compiled modules travel by structured clone. */
export interface LoadSpec {
  /** Identifies the compiled code: component digest + memory limit. */
  codeKey: string;
  glueUrl: string;
  modules: Record<string, WebAssembly.Module>;
}

export interface GuestRequest {
  method: string;
  path: string;
  query: string;
  headers: [string, string][];
  body: Uint8Array;
  /** How it reached the node: over TLS ('https'), or not (absent: plain HTTP, or from a function). */
  scheme?: 'https';
}

export interface GuestResponse {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

export type LogStream = 'stdout' | 'stderr' | 'debug' | 'info' | 'warn' | 'error';

export interface LogLine {
  stream: LogStream;
  message: string;
}

export type ToWorker =
  | {
      type: 'invoke';
      id: number;
      /** Whose warm instance serves the call (Job.instanceKey). */
      instanceKey: string;
      /** Present when the worker has no warm instance of instanceKey and must load it. */
      load?: LoadSpec;
      /** Absent for a prewarm: load the instance, call nothing. */
      request?: GuestRequest;
      env: [string, string][];
      /** The instance's linear memory cap (already compiled into the code), for diagnosis. */
      memoryLimitBytes: number;
      /** Log text this call keeps. */
      maxLogBytes: number;
      /** Absent: Enoki's world. */
      world?: WorldName;
      /** wasi:http guests: send the response as it is produced (events), not in `done`. */
      stream?: boolean;
      /** Largest body of a guest's outgoing HTTP request, bytes. */
      maxBodyBytes?: number;
    }
  | { type: 'evict'; instanceKey: string };

export type GuestFailure = 'trap' | 'error' | 'bad-response' | 'memory' | 'load';

/**
 * What a wasi:http guest does while its call runs, sent on the worker's port ahead of `done`:
 * its response head and body chunks (when the call streams), and its outgoing requests. The main
 * thread answers a request with an OutgoingAnswer, and a chunk with ChunkTaken once the client has
 * taken it, on the events channel.
 */
export type GuestEvent =
  | { kind: 'head'; status: number; headers: [string, string][]; cold: boolean }
  | { kind: 'chunk'; bytes: Uint8Array }
  | { kind: 'fetch'; fetchId: number; request: OutgoingHttpRequest };

export interface OutgoingAnswer {
  fetchId: number;
  result: OutgoingHttpResult;
}

/**
 * The answer to a streamed body chunk: the client has taken its `taken` bytes (or they were held
 * or dropped), so the guest may write that much more (wasi-http/call-response.ts, flow control);
 * `closed`: the client has gone, the guest's further writes fail.
 */
export interface ChunkTaken {
  taken: number;
  closed?: true;
}

/** What the main thread answers a GuestEvent with. */
export type EventAnswer = OutgoingAnswer | ChunkTaken;

export type { ErrorCode, OutgoingHttpRequest, OutgoingHttpResult, RequestTimeouts };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'event'; id: number; event: GuestEvent }
  | {
      type: 'done';
      id: number;
      cold: boolean;
      /** Linear memory the instance holds after the call, bytes. */
      memoryBytes: number;
      logs: LogLine[];
      logsTruncated: boolean;
      response?: GuestResponse;
      failure?: { kind: GuestFailure; message: string };
      /** Replies the worker's channels dropped as not its own, since it started (see sync-channel.ts). */
      channelFaults: number;
    };

/**
 * A host call as a worker sends it: tagged with the id of the invoke message it belongs to, so the
 * main thread serves it only while that call is the one running on the worker.
 */
export type HostCall<T> = T & { callId: number };

/** A key-value call from a guest, forwarded synchronously to the main thread. */
export interface KvCall {
  op: string;
  args: unknown[];
}

export type KvReply = { ok: true; value: unknown } | { ok: false; error: { tag: string; val?: string } };

/**
 * A call of the `invoke` interface from a guest. It travels on a sync channel of its own, apart
 * from KV calls: the worker blocks until the callee has answered.
 */
export interface InvokeCall {
  op: 'call' | 'call-async';
  function: string;
  request: GuestRequest;
}

/** `call` answers a response, `call-async` an invocation id; errors are the WIT `call-error`. */
export type InvokeReply =
  | { ok: true; value: GuestResponse | string }
  | { ok: false; error: { tag: 'not-found' | 'failed' | 'timeout' | 'overloaded' | 'too-deep' | 'unavailable'; val: string } };
