// What every import this host binds itself looks like: the function's WIT type (lifted and
// lowered by canon-calls.ts), whether it may answer with a promise, and its implementation over
// the invocation running in the instance.

import type { InvokeCall, InvokeReply, KvCall, KvReply, LogStream, OutgoingHttpRequest, OutgoingHttpResult } from '../protocol.js';
import type { FuncType } from './canon-calls.js';

/** What an instance's imports reach: the invocation currently running in it. */
export interface GuestHost {
  kv(call: KvCall): KvReply | Promise<KvReply>;
  log(stream: LogStream, message: string): void;
  /** Bytes the guest wrote to its stdout or stderr (WASI), kept as log lines. */
  output(stream: 'stdout' | 'stderr', bytes: Uint8Array): void;
  env(): [string, string][];
  /** The instance's memory cap: also the most of a response body the host holds for the call. */
  memoryLimitBytes: number;
  invoke(call: InvokeCall): Promise<InvokeReply>;
  /** Called when the guest is about to wait for time to pass (a timer, a poll). */
  waiting?(): void;
  /** Makes a wasi:http guest's outgoing request; absent for other guests (refused). */
  fetch?(request: OutgoingHttpRequest, done: (result: OutgoingHttpResult) => void): void;
  /** Largest body of an outgoing request, bytes. */
  maxBodyBytes: number;
}

export interface Binding {
  type: FuncType;
  /**
   * The import may answer with a promise (the guest then waits through JSPI); 'http': only in a
   * wasi:http guest (a write to its response body waits for the client), at once in any other.
   */
  suspends: boolean | 'http';
  impl: (host: GuestHost, args: unknown[]) => unknown;
  /** Called with no lifting at all (it only traps). */
  raw?: boolean;
}

/** A binding that always answers at once. */
export const plain = (type: FuncType, impl: Binding['impl']): Binding => ({ type, suspends: false, impl });

export const ok = (val?: unknown) => ({ tag: 'ok' as const, val });
export const err = (val?: unknown) => ({ tag: 'err' as const, val });

/** `value` as an instance of `kind`, or a trap: a guest passed a handle of another resource type. */
export function as<C>(kind: abstract new (...args: never[]) => C, value: unknown): C {
  if (!(value instanceof kind)) throw new Error(`the guest passed a handle that is not a ${kind.name}`);
  return value;
}
