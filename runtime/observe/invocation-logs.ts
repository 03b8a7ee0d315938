// The last N invocations of each function (ENOKI_LOG_ENTRIES_PER_FUNCTION) with the guest's own
// log lines and any error, kept in memory for GET /functions/{name}/logs, bounded per function
// in entries and in bytes of log text (ENOKI_LOG_BYTES_PER_FUNCTION): oldest entries go first.
// Each entry gets a sequence number per function, so a reader pages back through them with
// `before` instead of receiving every kept entry, and every line of each, in one answer.

import type { LogLine } from '../exec/protocol.js';

export interface InvocationLog {
  invocationId: string;
  at: string;
  version: string;
  durationMs: number;
  status: number;
  cold: boolean;
  lines: LogLine[];
  /** The guest logged more than the node keeps per invocation; the lines after that are missing. */
  truncated: boolean;
  /** Invocation id of the function that called this one (absent when a request started it). */
  caller?: string;
  error?: { code: string; message: string };
}

export interface NumberedLog extends InvocationLog {
  /** 1 for the function's first invocation since the node started, then 2, 3, … */
  seq: number;
}

export interface LogPage {
  /** Oldest first. */
  invocations: NumberedLog[];
  /** `before` for the page of older entries; absent when there are none. */
  next?: number;
}

/** The log text an entry holds (its lines and error), as counted against the budget. */
function textBytes(entry: InvocationLog): number {
  let n = entry.error?.message.length ?? 0;
  for (const line of entry.lines) n += line.message.length;
  return n;
}

export class InvocationLogs {
  readonly #entries = new Map<string, { list: NumberedLog[]; next: number; bytes: number }>();

  constructor(
    readonly perFunction: number,
    readonly bytesPerFunction = Infinity,
  ) {}

  add(fn: string, entry: InvocationLog): void {
    let log = this.#entries.get(fn);
    if (!log) this.#entries.set(fn, (log = { list: [], next: 1, bytes: 0 }));
    log.list.push({ ...entry, seq: log.next++ });
    log.bytes += textBytes(entry);
    // The newest entry always stays, whatever its size (it is within the per-invocation cap).
    while (log.list.length > 1 && (log.list.length > this.perFunction || log.bytes > this.bytesPerFunction)) {
      log.bytes -= textBytes(log.list.shift()!);
    }
  }

  /** The `limit` newest entries older than `before` (all kept ones without it), oldest first. */
  page(fn: string, options: { limit?: number; before?: number } = {}): LogPage {
    const list = this.#entries.get(fn)?.list ?? [];
    let end = list.length;
    if (options.before !== undefined) {
      // Sequence numbers increase along the list: find the first entry not older than `before`.
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (list[mid].seq < options.before) lo = mid + 1;
        else hi = mid;
      }
      end = lo;
    }
    const start = Math.max(0, end - Math.max(0, options.limit ?? this.perFunction));
    const invocations = list.slice(start, end);
    return start > 0 && invocations.length > 0 ? { invocations, next: invocations[0].seq } : { invocations };
  }

  /** Newest last; `limit` keeps the most recent. */
  list(fn: string, limit = this.perFunction): NumberedLog[] {
    return this.page(fn, { limit }).invocations;
  }

  forget(fn: string): void {
    this.#entries.delete(fn);
  }
}
