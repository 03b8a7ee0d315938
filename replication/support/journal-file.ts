// The write journal's file: an append-only sequence of records, each a batch of writes (puts and
// deletes) that a LevelDB-backed store has acknowledged but LevelDB may not hold yet. Appends are synchronous (one write(2),
// no thread-pool round trip), so a write is acknowledged as soon as the kernel has it: it
// survives a crash of the process, as a LevelDB write without fsync does.
//
// Record: u32 LE payload length, u32 LE CRC-32 of the payload, payload = JSON [[key, value], ...]
// with a null value for a delete.
// A record cut short or failing its checksum ends the journal: it can only be the last append
// of a process that died mid-write, and that append was never acknowledged.

import fs from 'node:fs';
import { crc32 } from 'node:zlib';

/** A put, or with a null value a delete. */
export type JournalOp = readonly [key: string, value: string | null];

const HEADER_BYTES = 8;

export class JournalFile {
  readonly path: string;
  #fd: number;
  #size: number;
  /** Set when an append could not be undone: every later append fails with it. */
  #broken: Error | undefined;

  private constructor(path: string, fd: number, size: number) {
    this.path = path;
    this.#fd = fd;
    this.#size = size;
  }

  /** Opens (or creates) the journal and reads the batches it holds, oldest first. */
  static open(path: string): { file: JournalFile; batches: JournalOp[][] } {
    const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    try {
      const bytes = fs.readFileSync(fd);
      const { batches, validBytes } = parseJournal(bytes);
      // A torn last record goes now, so that the next append does not land behind it.
      if (validBytes < bytes.length) fs.ftruncateSync(fd, validBytes);
      return { file: new JournalFile(path, fd, validBytes), batches };
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  /** Bytes of valid records. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends one batch. On return the batch is in the kernel's page cache (it survives a crash of
   * the process, not a power loss); on a throw it is not in the journal at all.
   */
  append(ops: readonly JournalOp[]): void {
    if (this.#broken) throw this.#broken;
    const record = encodeRecord(ops);
    const start = this.#size;
    try {
      let written = 0;
      while (written < record.length) written += fs.writeSync(this.#fd, record, written, record.length - written, start + written);
    } catch (err) {
      // Leave no torn record behind: a later record after it would be unreadable.
      try {
        fs.ftruncateSync(this.#fd, start);
      } catch (undo) {
        this.#broken = new Error(`write journal ${this.path} unusable: ${(undo as Error).message}`);
      }
      throw err;
    }
    this.#size = start + record.length;
  }

  /** Empties the journal: only once every record it holds is in LevelDB. */
  reset(): void {
    if (this.#size === 0) return;
    fs.ftruncateSync(this.#fd, 0);
    this.#size = 0;
  }

  close(): void {
    fs.closeSync(this.#fd);
  }
}

export function encodeRecord(ops: readonly JournalOp[]): Buffer {
  const payload = Buffer.from(JSON.stringify(ops), 'utf8');
  const record = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  record.writeUInt32LE(payload.length, 0);
  record.writeUInt32LE(crc32(payload), 4);
  payload.copy(record, HEADER_BYTES);
  return record;
}

/** The complete records at the start of `bytes`, and how many bytes they span. */
export function parseJournal(bytes: Buffer): { batches: JournalOp[][]; validBytes: number } {
  const batches: JournalOp[][] = [];
  let at = 0;
  while (at + HEADER_BYTES <= bytes.length) {
    const length = bytes.readUInt32LE(at);
    const end = at + HEADER_BYTES + length;
    if (end > bytes.length) break;
    const payload = bytes.subarray(at + HEADER_BYTES, end);
    if (crc32(payload) !== bytes.readUInt32LE(at + 4)) break;
    const ops = parseOps(payload);
    if (!ops) break;
    batches.push(ops);
    at = end;
  }
  return { batches, validBytes: at };
}

function parseOps(payload: Buffer): JournalOp[] | undefined {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    if (!Array.isArray(value)) return undefined;
    const ok = value.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && (typeof p[1] === 'string' || p[1] === null));
    return ok ? (value as JournalOp[]) : undefined;
  } catch {
    return undefined;
  }
}
