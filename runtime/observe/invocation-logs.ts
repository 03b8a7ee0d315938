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

/** An entry as the invoker hands it over: `at` may be epoch milliseconds, made ISO text when read. */
export type NewInvocationLog = Omit<InvocationLog, 'at'> & { at: string | number };

type StoredLog = Omit<NumberedLog, 'at'> & { at: string | number };

/** The log text an entry holds (its lines and error), as counted against the budget. */
function textBytes(entry: NewInvocationLog): number {
  let n = entry.error?.message.length ?? 0;
  for (const line of entry.lines) n += line.message.length;
  return n;
}

/** One function's entries: items[head..] are kept, oldest first; the dropped prefix is cut off now and then. */
interface FunctionLog {
  items: (StoredLog | undefined)[];
  head: number;
  next: number;
  bytes: number;
}

/** Dropped slots at the front of a list before it is compacted (and at least half of it). */
const COMPACT_AFTER = 256;

export class InvocationLogs {
  readonly #entries = new Map<string, FunctionLog>();

  constructor(
    readonly perFunction: number,
    readonly bytesPerFunction = Infinity,
  ) {}

  /** Keeps the entry (add owns it from here: it is numbered in place, not copied). */
  add(fn: string, entry: NewInvocationLog): void {
    let log = this.#entries.get(fn);
    if (!log) this.#entries.set(fn, (log = { items: [], head: 0, next: 1, bytes: 0 }));
    const stored = entry as StoredLog;
    stored.seq = log.next++;
    log.items.push(stored);
    log.bytes += textBytes(entry);
    // The newest entry always stays, whatever its size (it is within the per-invocation cap).
    // Dropping the oldest moves nothing: its slot is cleared and the front advances.
    while (log.items.length - log.head > 1 && (log.items.length - log.head > this.perFunction || log.bytes > this.bytesPerFunction)) {
      log.bytes -= textBytes(log.items[log.head]!);
      log.items[log.head++] = undefined;
    }
    if (log.head >= COMPACT_AFTER && log.head * 2 >= log.items.length) {
      log.items = log.items.slice(log.head);
      log.head = 0;
    }
  }

  /** The `limit` newest entries older than `before` (all kept ones without it), oldest first. */
  page(fn: string, options: { limit?: number; before?: number } = {}): LogPage {
    const log = this.#entries.get(fn);
    if (!log) return { invocations: [] };
    const { items, head } = log;
    let end = items.length;
    if (options.before !== undefined) {
      // Sequence numbers increase along the list: find the first entry not older than `before`.
      let lo = head;
      let hi = items.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (items[mid]!.seq < options.before) lo = mid + 1;
        else hi = mid;
      }
      end = lo;
    }
    const start = Math.max(head, end - Math.max(0, options.limit ?? this.perFunction));
    const invocations = items.slice(start, end).map((e) => {
      // Formatted once, when first read: most entries never are.
      if (typeof e!.at === 'number') e!.at = new Date(e!.at).toISOString();
      return e as NumberedLog;
    });
    return start > head && invocations.length > 0 ? { invocations, next: invocations[0].seq } : { invocations };
  }

  /** Newest last; `limit` keeps the most recent. */
  list(fn: string, limit = this.perFunction): NumberedLog[] {
    return this.page(fn, { limit }).invocations;
  }

  forget(fn: string): void {
    this.#entries.delete(fn);
  }
}
