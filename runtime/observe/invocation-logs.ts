// The last N invocations of each function with the guest's own log lines and any error, kept in
// memory (bounded per function) for GET /functions/{name}/logs.

import type { LogLine } from '../exec/protocol.js';

export interface InvocationLog {
  invocationId: string;
  at: string;
  version: string;
  durationMs: number;
  status: number;
  cold: boolean;
  lines: LogLine[];
  truncated: boolean;
  /** Invocation id of the function that called this one (absent when a request started it). */
  caller?: string;
  error?: { code: string; message: string };
}

export class InvocationLogs {
  readonly #entries = new Map<string, InvocationLog[]>();

  constructor(private readonly perFunction: number) {}

  add(fn: string, entry: InvocationLog): void {
    let list = this.#entries.get(fn);
    if (!list) this.#entries.set(fn, (list = []));
    list.push(entry);
    if (list.length > this.perFunction) list.splice(0, list.length - this.perFunction);
  }

  /** Newest last; `limit` keeps the most recent. */
  list(fn: string, limit = this.perFunction): InvocationLog[] {
    const list = this.#entries.get(fn) ?? [];
    return list.slice(Math.max(0, list.length - limit));
  }

  forget(fn: string): void {
    this.#entries.delete(fn);
  }
}
