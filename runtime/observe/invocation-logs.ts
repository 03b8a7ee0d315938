// The last N invocations of each function (ENOKI_LOG_ENTRIES_PER_FUNCTION) with the guest's own
// log lines and any error, kept in memory for GET /functions/{name}/logs, bounded per function
// in entries and in bytes of log text (ENOKI_LOG_BYTES_PER_FUNCTION): oldest entries go first.
// Each entry gets a sequence number per function, so a reader pages back through them with
// `before` instead of receiving every kept entry, and every line of each, in one answer.
//
// An entry is kept as numbers and bytes, not as the objects it came in: a ring of typed columns
// per function, its UUID as 16 bytes, its lines encoded in a byte arena. Keeping a call's objects
// for the next few hundred calls made every call of a busy node dearer (objects that outlive a
// young-generation collection are copied and promoted, and V8 grows the young generation while
// they do); an entry of the common shape now leaves nothing on the JS heap that outlives its call.
// The rare parts (an error, a caller, an id that is not a UUID) are kept as they came.

import type { LogLine, LogStream } from '../exec/protocol.js';

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

/** The log text an entry holds (its lines and error), as counted against the budget. */
function textBytes(entry: NewInvocationLog): number {
  let n = entry.error?.message.length ?? 0;
  for (const line of entry.lines) n += line.message.length;
  return n;
}

const STREAMS: readonly LogStream[] = ['stdout', 'stderr', 'debug', 'info', 'warn', 'error'];
const STREAM_CODE = new Map<string, number>(STREAMS.map((s, i) => [s, i]));
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const COLD = 1;
const TRUNCATED = 2;
/** The id is in the id column (a UUID); otherwise it is in `rare`. */
const PACKED_ID = 4;

/** What an entry of an unusual shape keeps as it came. */
interface Rare {
  invocationId?: string;
  at?: string;
  caller?: string;
  error?: { code: string; message: string };
}

/** A lowercase hexadecimal digit's value, or -1. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Writes a UUID in its lowercase text form (crypto.randomUUID's) as 16 bytes; false when `id` is
 * not one (the bytes written then mean nothing).
 */
function packUuid(id: string, into: Uint8Array, at: number): boolean {
  if (id.length !== 36) return false;
  for (let i = 0, k = 0; k < 16; i += 2, k++) {
    if (k === 4 || k === 6 || k === 8 || k === 10) {
      if (id.charCodeAt(i) !== 0x2d) return false;
      i++;
    }
    const hi = hexDigit(id.charCodeAt(i));
    const lo = hexDigit(id.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) return false;
    into[at + k] = (hi << 4) | lo;
  }
  return true;
}

function unpackUuid(from: Uint8Array, at: number): string {
  let s = '';
  for (let k = 0; k < 16; k++) {
    if (k === 4 || k === 6 || k === 8 || k === 10) s += '-';
    s += HEX[from[at + k]];
  }
  return s;
}

/** One function's entries: seq numbers first..next-1 are kept, in a ring of columns. */
class FunctionLog {
  next = 1;
  count = 0;
  bytes = 0;
  #size = 0;
  #at = new Float64Array(0);
  #duration = new Float64Array(0);
  #status = new Uint16Array(0);
  #flags = new Uint8Array(0);
  #text = new Float64Array(0);
  #ids = new Uint8Array(0);
  /** Absolute arena positions where each entry's lines start and end. */
  #linesStart = new Float64Array(0);
  #linesEnd = new Float64Array(0);
  #version: string[] = [];
  #rare: (Rare | undefined)[] = [];
  /** The lines of the kept entries, encoded: [stream u8][length u32][UTF-8] each. */
  #arena = Buffer.alloc(0);
  /** Absolute position of arena[0]. */
  #arenaBase = 0;
  /** Absolute position after the newest entry's lines. */
  #arenaEnd = 0;

  constructor(private readonly capacity: number) {}

  get first(): number {
    return this.next - this.count;
  }

  #slot(seq: number): number {
    return (seq - 1) % this.#size;
  }

  add(entry: NewInvocationLog): void {
    if (this.count === this.#size) this.#grow();
    const seq = this.next++;
    const i = this.#slot(seq);
    this.count++;
    const text = textBytes(entry);
    this.bytes += text;
    this.#text[i] = text;
    this.#duration[i] = entry.durationMs;
    this.#status[i] = entry.status;
    this.#version[i] = entry.version;
    let flags = (entry.cold ? COLD : 0) | (entry.truncated ? TRUNCATED : 0);
    let rare: Rare | undefined;
    if (packUuid(entry.invocationId, this.#ids, i * 16)) flags |= PACKED_ID;
    else rare = { invocationId: entry.invocationId };
    if (typeof entry.at === 'number') this.#at[i] = entry.at;
    else (rare ??= {}).at = entry.at;
    if (entry.caller !== undefined) (rare ??= {}).caller = entry.caller;
    if (entry.error !== undefined) (rare ??= {}).error = entry.error;
    this.#flags[i] = flags;
    this.#rare[i] = rare;
    this.#linesStart[i] = this.#arenaEnd;
    if (entry.lines.length > 0) this.#encodeLines(entry.lines);
    this.#linesEnd[i] = this.#arenaEnd;
  }

  /** Drops the oldest entry. */
  dropOldest(): void {
    const i = this.#slot(this.first);
    this.bytes -= this.#text[i];
    this.#rare[i] = undefined;
    this.count--;
  }

  read(seq: number): NumberedLog {
    const i = this.#slot(seq);
    const flags = this.#flags[i];
    const rare = this.#rare[i];
    return {
      invocationId: flags & PACKED_ID ? unpackUuid(this.#ids, i * 16) : rare!.invocationId!,
      at: rare?.at ?? new Date(this.#at[i]).toISOString(),
      version: this.#version[i],
      durationMs: this.#duration[i],
      status: this.#status[i],
      cold: (flags & COLD) !== 0,
      lines: this.#decodeLines(this.#linesStart[i], this.#linesEnd[i]),
      truncated: (flags & TRUNCATED) !== 0,
      caller: rare?.caller,
      error: rare?.error,
      seq,
    };
  }

  /** Room for one more entry: the columns double, up to the capacity, the kept entries in order. */
  #grow(): void {
    const size = Math.max(1, Math.min(this.capacity, Math.max(8, this.#size * 2)));
    if (size === this.#size) throw new Error('invocation log full');
    const order = Array.from({ length: this.count }, (_, k) => this.#slot(this.first + k));
    const move = <T extends Float64Array | Uint16Array | Uint8Array>(from: T, make: (n: number) => T): T => {
      const to = make(size);
      // Slot of seq s in the new ring: (s - 1) % size.
      order.forEach((old, k) => (to[(this.first + k - 1) % size] = from[old]));
      return to;
    };
    const moveList = <T>(from: T[]): T[] => {
      const to = new Array<T>(size);
      order.forEach((old, k) => (to[(this.first + k - 1) % size] = from[old]));
      return to;
    };
    const ids = new Uint8Array(size * 16);
    order.forEach((old, k) => ids.set(this.#ids.subarray(old * 16, old * 16 + 16), ((this.first + k - 1) % size) * 16));
    this.#at = move(this.#at, (n) => new Float64Array(n));
    this.#duration = move(this.#duration, (n) => new Float64Array(n));
    this.#status = move(this.#status, (n) => new Uint16Array(n));
    this.#flags = move(this.#flags, (n) => new Uint8Array(n));
    this.#text = move(this.#text, (n) => new Float64Array(n));
    this.#linesStart = move(this.#linesStart, (n) => new Float64Array(n));
    this.#linesEnd = move(this.#linesEnd, (n) => new Float64Array(n));
    this.#version = moveList(this.#version);
    this.#rare = moveList(this.#rare);
    this.#ids = ids;
    this.#size = size;
  }

  #encodeLines(lines: LogLine[]): void {
    let most = 0;
    for (const line of lines) most += 5 + 3 * line.message.length;
    let pos = this.#reserve(most);
    const arena = this.#arena;
    for (const line of lines) {
      arena[pos] = STREAM_CODE.get(line.stream) ?? 0;
      const written = arena.write(line.message, pos + 5, 'utf8');
      arena.writeUInt32LE(written, pos + 1);
      pos += 5 + written;
    }
    this.#arenaEnd = this.#arenaBase + pos;
  }

  #decodeLines(start: number, end: number): LogLine[] {
    const lines: LogLine[] = [];
    const arena = this.#arena;
    for (let pos = start - this.#arenaBase; pos < end - this.#arenaBase; ) {
      const length = arena.readUInt32LE(pos + 1);
      lines.push({ stream: STREAMS[arena[pos]], message: arena.toString('utf8', pos + 5, pos + 5 + length) });
      pos += 5 + length;
    }
    return lines;
  }

  /**
   * Room for `n` more bytes after the newest entry's lines; answers where they go in the arena.
   * The lines of dropped entries are let go of first (the kept ones move to the front), then the
   * arena doubles.
   */
  #reserve(n: number): number {
    const used = this.#arenaEnd - this.#arenaBase;
    if (used + n <= this.#arena.length) return used;
    // The entry being added is counted already: the oldest kept entry may be that one.
    const keepFrom = this.#linesStart[this.#slot(this.first)];
    const from = keepFrom - this.#arenaBase;
    const kept = used - from;
    let size = Math.max(this.#arena.length, 1024);
    while (size < kept + n) size *= 2;
    // Shrinks back when the kept lines need far less than it holds.
    while (size > 1024 && size / 4 >= kept + n) size /= 2;
    if (size === this.#arena.length) this.#arena.copyWithin(0, from, used);
    else {
      const arena = Buffer.alloc(size);
      this.#arena.copy(arena, 0, from, used);
      this.#arena = arena;
    }
    this.#arenaBase = keepFrom;
    return kept;
  }
}

export class InvocationLogs {
  readonly #entries = new Map<string, FunctionLog>();

  constructor(
    readonly perFunction: number,
    readonly bytesPerFunction = Infinity,
  ) {}

  /** Keeps the entry (copied into the function's log: the caller may reuse or drop it). */
  add(fn: string, entry: NewInvocationLog): void {
    let log = this.#entries.get(fn);
    if (!log) this.#entries.set(fn, (log = new FunctionLog(Math.max(1, this.perFunction))));
    // The newest entry always stays, whatever its size (it is within the per-invocation cap).
    const text = textBytes(entry);
    while (log.count > 0 && (log.count >= this.perFunction || log.bytes + text > this.bytesPerFunction)) log.dropOldest();
    log.add(entry);
  }

  /** The `limit` newest entries older than `before` (all kept ones without it), oldest first. */
  page(fn: string, options: { limit?: number; before?: number } = {}): LogPage {
    const log = this.#entries.get(fn);
    if (!log || log.count === 0) return { invocations: [] };
    const first = log.first;
    const end = options.before === undefined ? log.next : Math.min(log.next, Math.max(first, options.before));
    const start = Math.max(first, end - Math.max(0, options.limit ?? this.perFunction));
    const invocations: NumberedLog[] = [];
    for (let seq = start; seq < end; seq++) invocations.push(log.read(seq));
    return start > first && invocations.length > 0 ? { invocations, next: invocations[0].seq } : { invocations };
  }

  /** Newest last; `limit` keeps the most recent. */
  list(fn: string, limit = this.perFunction): NumberedLog[] {
    return this.page(fn, { limit }).invocations;
  }

  forget(fn: string): void {
    this.#entries.delete(fn);
  }
}
