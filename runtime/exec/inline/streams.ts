// wasi:io 0.2 (poll, error, streams) as this host binds it: pollables ready now or at an instant,
// and byte streams over what the host has at hand (a guest's stdout and stderr, a request body
// already read, a response body on its way out). An output stream may take nothing for a while
// (a response body whose client is behind): check-write then grants nothing, and its pollable and
// the blocking writes wait until it takes bytes again. A stream's handle names one of the classes
// below; a handle of any other kind traps.

import { T } from './canon.js';
import { as, err, ok, plain, type Binding, type GuestHost } from './binding.js';

/** A pollable: ready now, or at a monotonic instant (ns). */
export class Pollable {
  constructor(readonly at = 0n) {}

  ready(): boolean {
    return process.hrtime.bigint() >= this.at;
  }

  /**
   * Resolves when ready, never before: a timer can fire up to a millisecond early against the
   * monotonic clock (it counts from the loop's cached time, and whole milliseconds), and a guest
   * may rely on having slept at least what it asked (Rust's thread::sleep promises it).
   */
  async wait(): Promise<void> {
    for (let left = this.at - process.hrtime.bigint(); left > 0n; left = this.at - process.hrtime.bigint()) {
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(Number(left) / 1e6)));
    }
  }
}

/** A pollable ready once something the host awaits has happened (an answer arrived, say). */
export class SettledPollable extends Pollable {
  constructor(
    private readonly settled: () => boolean,
    private readonly whenSettled: Promise<void>,
  ) {
    super();
  }

  override ready(): boolean {
    return this.settled();
  }

  override wait(): Promise<void> {
    return this.whenSettled;
  }
}

/** wasi:io/error: why a stream operation failed. */
export class IoError {
  constructor(readonly message: string) {}
}

export type StreamError = { tag: 'closed' } | { tag: 'last-operation-failed'; val: IoError };
export const CLOSED: StreamError = { tag: 'closed' };

/** Bytes a guest may ask to write at once. */
export const WRITE_BUDGET = 1024n * 1024n;

export abstract class OutputStream {
  /** Takes the bytes (a view of guest memory: copied if kept), or says why not. */
  abstract write(host: GuestHost, bytes: Uint8Array): StreamError | undefined;

  /**
   * Bytes the stream takes now (a response body waits for its client); check-write grants at
   * most WRITE_BUDGET of them.
   */
  permit(): number {
    return Infinity;
  }

  /** Resolves once permit() is above 0. */
  whenPermitted(): Promise<void> {
    return Promise.resolve();
  }
}

/** An output stream's pollable: ready while the stream takes bytes. */
class WritablePollable extends Pollable {
  constructor(private readonly stream: OutputStream) {
    super();
  }

  override ready(): boolean {
    return this.stream.permit() > 0;
  }

  override wait(): Promise<void> {
    return this.stream.whenPermitted();
  }
}

export class StdioOutput extends OutputStream {
  constructor(readonly stream: 'stdout' | 'stderr') {
    super();
  }

  write(host: GuestHost, bytes: Uint8Array): undefined {
    host.output(this.stream, bytes);
  }
}

export abstract class InputStream {
  /** Up to `max` bytes, or undefined at the stream's end. */
  abstract read(max: number): Uint8Array | undefined;
}

/** A stream at its end from the start (a guest's stdin). */
export class EmptyInput extends InputStream {
  read(): undefined {
    return undefined;
  }
}

/** A stream over bytes the host already holds. */
export class BytesInput extends InputStream {
  #offset = 0;

  constructor(private readonly bytes: Uint8Array) {
    super();
  }

  read(max: number): Uint8Array | undefined {
    if (this.#offset >= this.bytes.byteLength) return undefined;
    const end = Math.min(this.bytes.byteLength, this.#offset + max);
    const slice = this.bytes.slice(this.#offset, end);
    this.#offset = end;
    return slice;
  }
}

const streamError = T.variant([['last-operation-failed', T.own], ['closed', undefined]]);
const unit = T.result(undefined, streamError);

/** A length a guest asks for, bounded by what is sensible to hand over at once. */
const bounded = (len: unknown) => Math.min(Number(len as bigint), Number(WRITE_BUDGET));

function write(host: GuestHost, stream: unknown, bytes: Uint8Array) {
  const failed = as(OutputStream, stream).write(host, bytes);
  return failed ? err(failed) : ok();
}

/**
 * A blocking write: at once when the stream takes bytes now, else once the guest has waited for it
 * to (a response body's client catching up). `bytes` views guest memory: what waits is a copy.
 */
function blockingWrite(host: GuestHost, stream: unknown, bytes: Uint8Array) {
  const out = as(OutputStream, stream);
  if (out.permit() > 0) return write(host, out, bytes);
  const copy = new Uint8Array(bytes);
  return out.whenPermitted().then(() => write(host, out, copy));
}

/** A blocking flush: returns once the stream takes bytes again. */
function blockingFlush(stream: unknown) {
  const out = as(OutputStream, stream);
  return out.permit() > 0 ? ok() : out.whenPermitted().then(() => ok());
}

function read(stream: unknown, len: unknown) {
  const bytes = as(InputStream, stream).read(bounded(len));
  return bytes ? ok(bytes) : err(CLOSED);
}

function skip(stream: unknown, len: unknown) {
  const bytes = as(InputStream, stream).read(bounded(len));
  return bytes ? ok(BigInt(bytes.byteLength)) : err(CLOSED);
}

/** Moves up to `len` bytes, as many as the output takes now (maybe none). */
function splice(host: GuestHost, out: unknown, from: unknown, len: unknown) {
  const target = as(OutputStream, out);
  const source = as(InputStream, from);
  const max = Math.min(bounded(len), target.permit());
  if (max === 0 && bounded(len) > 0) return ok(0n);
  const bytes = source.read(max);
  if (!bytes) return err(CLOSED);
  const failed = target.write(host, bytes);
  return failed ? err(failed) : ok(BigInt(bytes.byteLength));
}

function blockingSplice(host: GuestHost, out: unknown, from: unknown, len: unknown) {
  const target = as(OutputStream, out);
  if (target.permit() > 0 || bounded(len) === 0) return splice(host, target, from, len);
  return target.whenPermitted().then(() => splice(host, target, from, len));
}

/** Waits for the first of `pollables` to be ready. */
function waitAny(host: GuestHost, pollables: Pollable[]): Promise<void> {
  host.waiting?.();
  return Promise.race(pollables.map((p) => p.wait()));
}

export const IO_BINDINGS: Record<string, Record<string, Binding>> = {
  'wasi:io/poll': {
    '[method]pollable.ready': plain({ params: [T.borrow], result: T.bool }, (_h, [p]) => as(Pollable, p).ready()),
    '[method]pollable.block': {
      type: { params: [T.borrow] },
      suspends: true,
      impl: (host, [p]) => (as(Pollable, p).ready() ? undefined : waitAny(host, [p as Pollable])),
    },
    poll: {
      type: { params: [T.list(T.borrow)], result: T.list(T.u32) },
      suspends: true,
      impl: (host, [list]) => {
        const pollables = (list as unknown[]).map((p) => as(Pollable, p));
        if (pollables.length === 0) throw new Error('poll of an empty list');
        const ready = () => pollables.flatMap((p, i) => (p.ready() ? [i] : []));
        const now = ready();
        if (now.length > 0) return now;
        return waitAny(host, pollables).then(ready);
      },
    },
  },
  'wasi:io/error': {
    '[method]error.to-debug-string': plain({ params: [T.borrow], result: T.string }, (_h, [e]) => as(IoError, e).message),
  },
  'wasi:io/streams': {
    '[method]output-stream.check-write': plain({ params: [T.borrow], result: T.result(T.u64, streamError) }, (_h, [s]) =>
      ok(BigInt(Math.min(as(OutputStream, s).permit(), Number(WRITE_BUDGET)))),
    ),
    '[method]output-stream.write': plain({ params: [T.borrow, T.list(T.u8)], result: unit }, (host, [s, bytes]) => write(host, s, bytes as Uint8Array)),
    '[method]output-stream.blocking-write-and-flush': {
      type: { params: [T.borrow, T.list(T.u8)], result: unit },
      suspends: 'http',
      impl: (host, [s, bytes]) => blockingWrite(host, s, bytes as Uint8Array),
    },
    '[method]output-stream.flush': plain({ params: [T.borrow], result: unit }, (_h, [s]) => (as(OutputStream, s), ok())),
    '[method]output-stream.blocking-flush': { type: { params: [T.borrow], result: unit }, suspends: 'http', impl: (_h, [s]) => blockingFlush(s) },
    '[method]output-stream.subscribe': plain({ params: [T.borrow], result: T.own }, (_h, [s]) => new WritablePollable(as(OutputStream, s))),
    '[method]output-stream.write-zeroes': plain({ params: [T.borrow, T.u64], result: unit }, (host, [s, n]) => write(host, s, new Uint8Array(bounded(n)))),
    '[method]output-stream.blocking-write-zeroes-and-flush': {
      type: { params: [T.borrow, T.u64], result: unit },
      suspends: 'http',
      impl: (host, [s, n]) => blockingWrite(host, s, new Uint8Array(bounded(n))),
    },
    '[method]output-stream.splice': plain({ params: [T.borrow, T.borrow, T.u64], result: T.result(T.u64, streamError) }, (host, [out, from, n]) =>
      splice(host, out, from, n),
    ),
    '[method]output-stream.blocking-splice': {
      type: { params: [T.borrow, T.borrow, T.u64], result: T.result(T.u64, streamError) },
      suspends: 'http',
      impl: (host, [out, from, n]) => blockingSplice(host, out, from, n),
    },
    '[method]input-stream.read': plain({ params: [T.borrow, T.u64], result: T.result(T.list(T.u8), streamError) }, (_h, [s, n]) => read(s, n)),
    '[method]input-stream.blocking-read': plain({ params: [T.borrow, T.u64], result: T.result(T.list(T.u8), streamError) }, (_h, [s, n]) => read(s, n)),
    '[method]input-stream.skip': plain({ params: [T.borrow, T.u64], result: T.result(T.u64, streamError) }, (_h, [s, n]) => skip(s, n)),
    '[method]input-stream.blocking-skip': plain({ params: [T.borrow, T.u64], result: T.result(T.u64, streamError) }, (_h, [s, n]) => skip(s, n)),
    '[method]input-stream.subscribe': plain({ params: [T.borrow], result: T.own }, () => new Pollable()),
  },
};
