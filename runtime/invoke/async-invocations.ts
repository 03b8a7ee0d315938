// Asynchronous invocations (202 + id now, result later): a bounded table of them, with their
// results spilled to the node's disk instead of being held in memory.
//
// Bounds: at most `maxEntries` invocations are tracked (running and finished); a new one takes
// the place of the oldest finished result, and is refused (ERR_OVERLOADED) when every place is
// held by a running one. A place is claimed before anything runs, so a refused invocation never
// runs. A finished result is kept `ttlMs`; a response body larger than `maxResultBytes` is not
// kept (the result is ERR_ASYNC_RESULT_TOO_LARGE); all bodies together stay under `diskBytes`,
// the oldest finished results making room. Memory holds a few fields per invocation, never a
// body: the body is written to disk when the invocation ends and streamed from there.
//
// Restarts: results are files under the data directory, so finished ones survive a restart
// (until their TTL). An invocation that was running when the node stopped is reported as
// ERR_INVOCATION_INTERRUPTED: it may or may not have committed its writes.

import type { Logger } from 'pino';
import { EnokiError, ERROR_TABLE, toEnokiError, type ErrorCode } from '../errors.js';
import type { GuestResponse } from '../exec/protocol.js';
import { AsyncResultFiles, type AsyncResultRecord, type AsyncResultState } from './async-result-files.js';

export interface AsyncInvocationsOptions {
  /** Where results live (e.g. <data dir>/async-results). */
  dir: string;
  maxEntries: number;
  ttlMs: number;
  maxResultBytes: number;
  diskBytes: number;
  /** fsync each record (ENOKI_FSYNC). */
  sync: boolean;
  logger: Logger;
  now?: () => number;
  /** How often expired results are deleted, ms (default: the TTL, at most a minute). */
  sweepMs?: number;
}

/** What a reader may learn about an invocation before fetching its result. */
export interface AsyncView {
  state: AsyncResultState;
  fn: string;
  owner: string;
  createdAt: number;
  finishedAt?: number;
}

export type AsyncResult =
  | { state: 'done'; status: number; headers: [string, string][]; body: ReadableStream<Uint8Array> }
  | { state: 'failed'; error: EnokiError };

interface Entry {
  fn: string;
  owner: string;
  state: AsyncResultState;
  createdAt: number;
  finishedAt?: number;
  /** Bytes of the body file. */
  bytes: number;
  /** Only when the record could not be written: the error, kept in memory instead. */
  error?: EnokiError;
}

function errorOf(record: AsyncResultRecord['error']): EnokiError {
  if (!record) return new EnokiError('ERR_INTERNAL', 'the result of this invocation was lost');
  const code: ErrorCode = record.code in ERROR_TABLE ? record.code : 'ERR_INTERNAL';
  return new EnokiError(code, record.message, record.details);
}

export class AsyncInvocations {
  /** In creation order, so the first finished entry is the oldest. */
  readonly #entries = new Map<string, Entry>();
  readonly #files: AsyncResultFiles;
  readonly #now: () => number;
  readonly #settling = new Set<Promise<void>>();
  #diskBytes = 0;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly options: AsyncInvocationsOptions) {
    this.#files = new AsyncResultFiles(options.dir, options.sync);
    this.#now = options.now ?? Date.now;
  }

  /** Loads the results kept on disk and starts deleting expired ones on a schedule. */
  async open(): Promise<void> {
    const records = (await this.#files.load()).sort((a, b) => a.createdAt - b.createdAt);
    const now = this.#now();
    for (const record of records) {
      if (record.state === 'running') {
        record.state = 'failed';
        record.finishedAt = now;
        record.error = {
          code: 'ERR_INVOCATION_INTERRUPTED',
          message: `the node stopped while ${record.fn} ran; whether its writes were committed is unknown`,
        };
        await this.#files.writeRecord(record);
      } else if ((record.finishedAt ?? 0) + this.options.ttlMs < now || (record.state === 'done' && !(await this.#files.hasBody(record.id)))) {
        await this.#files.remove(record.id);
        continue;
      }
      const entry: Entry = { fn: record.fn, owner: record.owner, state: record.state, createdAt: record.createdAt, finishedAt: record.finishedAt, bytes: record.bytes ?? 0 };
      this.#entries.set(record.id, entry);
      this.#diskBytes += entry.bytes;
    }
    // Settings may have shrunk since the results were written.
    this.#makeRoom(this.options.maxEntries + 1, this.options.diskBytes);
    const every = this.options.sweepMs ?? Math.min(this.options.ttlMs, 60_000);
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(every, 10));
    this.#sweeper.unref();
  }

  /** Stops the sweeper and waits (at most `waitMs`) for results being written. */
  async close(waitMs = 10_000): Promise<void> {
    clearInterval(this.#sweeper);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.#settling]), new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }

  /**
   * Claims a place for invocation `id`, records it on disk, then starts `run` in the background
   * and keeps what it settles to. Throws ERR_OVERLOADED (nothing ran) when every place is held
   * by a running invocation.
   */
  async submit(id: string, fn: string, owner: string, run: () => Promise<GuestResponse>): Promise<void> {
    if (!AsyncResultFiles.isId(id)) throw new EnokiError('ERR_INTERNAL', `not an invocation id: ${id}`);
    this.#makeRoom(this.options.maxEntries, Infinity);
    if (this.#entries.size >= this.options.maxEntries) {
      throw new EnokiError('ERR_OVERLOADED', `too many asynchronous invocations in flight (${this.options.maxEntries})`);
    }
    const entry: Entry = { fn, owner, state: 'running', createdAt: this.#now(), bytes: 0 };
    this.#entries.set(id, entry);
    try {
      await this.#files.writeRecord({ id, fn, owner, state: 'running', createdAt: entry.createdAt });
    } catch (err) {
      this.#entries.delete(id);
      throw new EnokiError('ERR_RESULT_STORE_FAILED', `the invocation could not be recorded: ${(err as Error).message}`);
    }
    const settle = run().then(
      (response) => this.#done(id, entry, response),
      (err: unknown) => this.#failed(id, entry, toEnokiError(err)),
    );
    this.#settling.add(settle);
    void settle.finally(() => this.#settling.delete(settle));
  }

  /** The invocation `id`, unless unknown or expired. */
  get(id: string): AsyncView | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    if (this.#expired(entry)) {
      this.#drop(id, entry);
      return undefined;
    }
    return { state: entry.state, fn: entry.fn, owner: entry.owner, createdAt: entry.createdAt, finishedAt: entry.finishedAt };
  }

  /** The result of a finished invocation; undefined while it runs, or when it is gone. */
  async result(id: string): Promise<AsyncResult | undefined> {
    const entry = this.#entries.get(id);
    if (!entry || entry.state === 'running') return undefined;
    if (entry.error) return { state: 'failed', error: entry.error };
    const record = await this.#files.readRecord(id);
    if (!record) return undefined;
    if (record.state === 'failed') return { state: 'failed', error: errorOf(record.error) };
    const body = await this.#files.openBody(id);
    if (!body || record.status === undefined) return undefined;
    return { state: 'done', status: record.status, headers: record.headers ?? [], body };
  }

  stats(): { tracked: number; running: number; diskBytes: number } {
    let running = 0;
    for (const entry of this.#entries.values()) if (entry.state === 'running') running++;
    return { tracked: this.#entries.size, running, diskBytes: this.#diskBytes };
  }

  async #done(id: string, entry: Entry, response: GuestResponse): Promise<void> {
    const bytes = response.body.byteLength;
    if (bytes > this.options.maxResultBytes) {
      const error = new EnokiError(
        'ERR_ASYNC_RESULT_TOO_LARGE',
        `${entry.fn} answered ${bytes} bytes; asynchronous results are kept up to ${this.options.maxResultBytes} bytes (ENOKI_ASYNC_RESULT_MAX_BYTES)`,
        { limit: this.options.maxResultBytes },
      );
      return this.#failed(id, entry, error);
    }
    this.#makeRoom(Infinity, this.options.diskBytes - bytes);
    // Counted before the write, so results finishing together do not overrun the budget.
    this.#diskBytes += bytes;
    entry.bytes = bytes;
    try {
      await this.#files.writeBody(id, response.body);
      const finishedAt = this.#now();
      await this.#files.writeRecord({
        id,
        fn: entry.fn,
        owner: entry.owner,
        state: 'done',
        createdAt: entry.createdAt,
        finishedAt,
        status: response.status,
        headers: response.headers,
        bytes,
      });
      entry.state = 'done';
      entry.finishedAt = finishedAt;
    } catch (err) {
      this.#diskBytes -= bytes;
      entry.bytes = 0;
      await this.#files.remove(id).catch(() => undefined);
      this.options.logger.error({ fn: entry.fn, invocationId: id, err }, 'async result not stored');
      this.#settleInMemory(entry, new EnokiError('ERR_RESULT_STORE_FAILED', `the result of ${entry.fn} could not be stored: ${(err as Error).message}`));
    }
  }

  async #failed(id: string, entry: Entry, error: EnokiError): Promise<void> {
    const finishedAt = this.#now();
    try {
      await this.#files.writeRecord({
        id,
        fn: entry.fn,
        owner: entry.owner,
        state: 'failed',
        createdAt: entry.createdAt,
        finishedAt,
        error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
      });
      entry.state = 'failed';
      entry.finishedAt = finishedAt;
    } catch (err) {
      this.options.logger.error({ fn: entry.fn, invocationId: id, err }, 'async result not stored');
      this.#settleInMemory(entry, error);
    }
  }

  #settleInMemory(entry: Entry, error: EnokiError): void {
    entry.state = 'failed';
    entry.finishedAt = this.#now();
    entry.error = error;
  }

  #expired(entry: Entry): boolean {
    return entry.state !== 'running' && entry.finishedAt !== undefined && entry.finishedAt + this.options.ttlMs < this.#now();
  }

  /** Drops the oldest finished results until fewer than `count` entries and at most `bytes` remain. */
  #makeRoom(count: number, bytes: number): void {
    for (const [id, entry] of this.#entries) {
      if (this.#entries.size < count && this.#diskBytes <= bytes) return;
      if (entry.state !== 'running') this.#drop(id, entry);
    }
  }

  #sweep(): void {
    for (const [id, entry] of this.#entries) if (this.#expired(entry)) this.#drop(id, entry);
  }

  #drop(id: string, entry: Entry): void {
    this.#entries.delete(id);
    this.#diskBytes -= entry.bytes;
    this.#files.remove(id).catch((err: unknown) => this.options.logger.warn({ invocationId: id, err }, 'async result files not removed'));
  }
}
