// The on-disk side of async invocation results: per invocation a small JSON record
// (`<id>.json`: state, owner tag, times, the response's status and headers, or the error) and
// the response body as it is (`<id>.body`). Both are replaced atomically and the body is
// written first, so a record that says "done" always has its body.

import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ErrorCode } from '../errors.js';
import { isAtomicLeftover, writeFileAtomic } from '../../replication/support/atomic-file.js';

export type AsyncResultState = 'running' | 'done' | 'failed';

export interface AsyncResultRecord {
  id: string;
  fn: string;
  /** Tag of the credentials that may read the result (http/result-access.ts). */
  owner: string;
  state: AsyncResultState;
  createdAt: number;
  finishedAt?: number;
  /** done: the function's response without its body. */
  status?: number;
  headers?: [string, string][];
  /** done: size of the body file. */
  bytes?: number;
  /** failed: what the caller would have been answered. */
  error?: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

/** Invocation ids are UUIDs: nothing else is ever turned into a file name. */
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class AsyncResultFiles {
  constructor(
    readonly dir: string,
    private readonly sync: boolean,
  ) {}

  static isId(id: string): boolean {
    return ID.test(id);
  }

  async writeRecord(record: AsyncResultRecord): Promise<void> {
    await writeFileAtomic(this.#file(record.id, 'json'), JSON.stringify(record), { sync: this.sync });
  }

  async writeBody(id: string, body: Uint8Array): Promise<void> {
    await writeFileAtomic(this.#file(id, 'body'), body, { sync: this.sync });
  }

  async readRecord(id: string): Promise<AsyncResultRecord | undefined> {
    try {
      return JSON.parse(await fs.readFile(this.#file(id, 'json'), 'utf8')) as AsyncResultRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** The body as a stream, opened now: removing the file afterwards does not cut the stream. */
  async openBody(id: string): Promise<ReadableStream<Uint8Array> | undefined> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.#file(id, 'body'), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return Readable.toWeb(handle.createReadStream({ autoClose: true })) as unknown as ReadableStream<Uint8Array>;
  }

  async remove(id: string): Promise<void> {
    // The record goes last: a crash in between leaves a record whose body is missing, dropped at the next start.
    await fs.rm(this.#file(id, 'body'), { force: true });
    await fs.rm(this.#file(id, 'json'), { force: true });
  }

  /**
   * Every readable record, for the start of the node. Leftovers of interrupted writes, bodies
   * without a record and records that cannot be parsed are removed.
   */
  async load(): Promise<AsyncResultRecord[]> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const names = await fs.readdir(this.dir);
    const records: AsyncResultRecord[] = [];
    const withRecord = new Set<string>();
    for (const name of names) {
      const id = name.replace(/\.json$/, '');
      if (!name.endsWith('.json') || !ID.test(id)) continue;
      try {
        const record = JSON.parse(await fs.readFile(path.join(this.dir, name), 'utf8')) as AsyncResultRecord;
        if (record.id !== id) throw new Error('id mismatch');
        records.push(record);
        withRecord.add(id);
      } catch {
        await fs.rm(path.join(this.dir, name), { force: true });
      }
    }
    for (const name of names) {
      const body = /^(.*)\.body$/.exec(name);
      if (isAtomicLeftover(name) || (body && !withRecord.has(body[1]))) await fs.rm(path.join(this.dir, name), { force: true });
    }
    return records;
  }

  async hasBody(id: string): Promise<boolean> {
    return fs.access(this.#file(id, 'body')).then(
      () => true,
      () => false,
    );
  }

  #file(id: string, kind: 'json' | 'body'): string {
    if (!ID.test(id)) throw new Error(`not an invocation id: ${JSON.stringify(id.slice(0, 60))}`);
    return path.join(this.dir, `${id}.${kind}`);
  }
}
