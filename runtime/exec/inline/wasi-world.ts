// The WASI 0.2 functions this host binds itself, so that guests built with the `random`, `clocks`
// or `stdio` feature run inline too: randomness, clocks and timers, the environment, stdout and
// stderr (into the invocation's log lines), an stdin at its end, no terminals, no preopened
// directories (so no file can be named: every other filesystem function traps if ever reached).
// Sockets, HTTP and anything else still run through jco's glue and preview2-shim on a worker.
// Any 0.2.x version matches.

import { randomBytes, randomFillSync } from 'node:crypto';
import { T, type FuncType } from './canon.js';
import type { GuestHost } from './enoki-world.js';

interface Binding {
  type: FuncType;
  suspends: boolean;
  impl: (host: GuestHost, args: unknown[]) => unknown;
}

const datetime = T.record([['seconds', T.u64], ['nanoseconds', T.u32]]);
const streamError = T.variant([['last-operation-failed', T.own], ['closed', undefined]]);
const ok = { tag: 'ok', val: undefined };
const closed = { tag: 'err', val: { tag: 'closed' } };

/** A pollable: ready now, or at a monotonic instant (ns). */
class Pollable {
  constructor(readonly at = 0n) {}

  ready(): boolean {
    return process.hrtime.bigint() >= this.at;
  }

  /** Resolves when ready. */
  wait(): Promise<void> {
    const ms = Number((this.at - process.hrtime.bigint()) / 1_000_000n);
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
  }
}

class OutputStream {
  constructor(readonly stream: 'stdout' | 'stderr') {}
}

class InputStream {}

/** A byte count a guest may ask to write at once. */
const WRITE_BUDGET = 1024n * 1024n;

function output(self: unknown): OutputStream {
  if (!(self instanceof OutputStream)) throw new Error('not an output stream');
  return self;
}

/** Every call of an interface of which nothing is reachable: traps if a guest reaches it anyway. */
const UNREACHABLE = new Set(['wasi:filesystem/types']);

/** A u64 from the given random source. */
function u64(bytes: Buffer): bigint {
  return bytes.readBigUInt64LE(0);
}

/** Random bytes; a length past what a guest can hold is refused rather than allocated. */
function bytesOf(len: unknown): Uint8Array {
  const n = Number(len);
  if (!(n >= 0 && n <= 64 * 1024 * 1024)) throw new Error(`random bytes: ${String(len)} is more than a guest can take`);
  return randomFillSync(new Uint8Array(n));
}

const plain = (type: FuncType, impl: Binding['impl']): Binding => ({ type, suspends: false, impl });

const WASI: Record<string, Record<string, Binding>> = {
  'wasi:random/random': {
    'get-random-bytes': plain({ params: [T.u64], result: T.list(T.u8) }, (_h, [len]) => bytesOf(len)),
    'get-random-u64': plain({ params: [], result: T.u64 }, () => u64(randomBytes(8))),
  },
  'wasi:random/insecure': {
    'get-insecure-random-bytes': plain({ params: [T.u64], result: T.list(T.u8) }, (_h, [len]) => bytesOf(len)),
    'get-insecure-random-u64': plain({ params: [], result: T.u64 }, () => u64(randomBytes(8))),
  },
  'wasi:random/insecure-seed': {
    'insecure-seed': plain({ params: [], result: T.tuple(T.u64, T.u64) }, () => {
      const b = randomBytes(16);
      return [b.readBigUInt64LE(0), b.readBigUInt64LE(8)];
    }),
  },
  'wasi:clocks/wall-clock': {
    now: plain({ params: [], result: datetime }, () => {
      const ms = Date.now();
      return { seconds: BigInt(Math.floor(ms / 1000)), nanoseconds: (ms % 1000) * 1_000_000 };
    }),
    resolution: plain({ params: [], result: datetime }, () => ({ seconds: 0n, nanoseconds: 1_000_000 })),
  },
  'wasi:clocks/monotonic-clock': {
    now: plain({ params: [], result: T.u64 }, () => process.hrtime.bigint()),
    resolution: plain({ params: [], result: T.u64 }, () => 1n),
    'subscribe-instant': plain({ params: [T.u64], result: T.own }, (_h, [at]) => new Pollable(at as bigint)),
    'subscribe-duration': plain({ params: [T.u64], result: T.own }, (_h, [d]) => new Pollable(process.hrtime.bigint() + (d as bigint))),
  },
  'wasi:io/poll': {
    '[method]pollable.ready': plain({ params: [T.borrow], result: T.bool }, (_h, [p]) => (p as Pollable).ready()),
    '[method]pollable.block': { type: { params: [T.borrow] }, suspends: true, impl: (_h, [p]) => ((p as Pollable).ready() ? undefined : (p as Pollable).wait()) },
    poll: {
      type: { params: [T.list(T.borrow)], result: T.list(T.u32) },
      suspends: true,
      impl: (_h, [list]) => {
        const pollables = list as Pollable[];
        if (pollables.length === 0) throw new Error('poll of an empty list');
        const ready = () => pollables.flatMap((p, i) => (p.ready() ? [i] : []));
        const now = ready();
        if (now.length > 0) return now;
        return Promise.race(pollables.map((p) => p.wait())).then(ready);
      },
    },
  },
  'wasi:io/error': {
    '[method]error.to-debug-string': plain({ params: [T.borrow], result: T.string }, () => 'stream error'),
  },
  'wasi:io/streams': {
    '[method]output-stream.check-write': plain({ params: [T.borrow], result: T.result(T.u64, streamError) }, () => ({ tag: 'ok', val: WRITE_BUDGET })),
    '[method]output-stream.write': plain({ params: [T.borrow, T.list(T.u8)], result: T.result(undefined, streamError) }, (host, [s, bytes]) => {
      host.output(output(s).stream, bytes as Uint8Array);
      return ok;
    }),
    '[method]output-stream.blocking-write-and-flush': plain({ params: [T.borrow, T.list(T.u8)], result: T.result(undefined, streamError) }, (host, [s, bytes]) => {
      host.output(output(s).stream, bytes as Uint8Array);
      return ok;
    }),
    '[method]output-stream.flush': plain({ params: [T.borrow], result: T.result(undefined, streamError) }, () => ok),
    '[method]output-stream.blocking-flush': plain({ params: [T.borrow], result: T.result(undefined, streamError) }, () => ok),
    '[method]output-stream.subscribe': plain({ params: [T.borrow], result: T.own }, () => new Pollable()),
    '[method]output-stream.write-zeroes': plain({ params: [T.borrow, T.u64], result: T.result(undefined, streamError) }, (host, [s, n]) => {
      host.output(output(s).stream, new Uint8Array(Math.min(Number(n), Number(WRITE_BUDGET))));
      return ok;
    }),
    '[method]output-stream.blocking-write-zeroes-and-flush': plain({ params: [T.borrow, T.u64], result: T.result(undefined, streamError) }, (host, [s, n]) => {
      host.output(output(s).stream, new Uint8Array(Math.min(Number(n), Number(WRITE_BUDGET))));
      return ok;
    }),
    '[method]output-stream.splice': plain({ params: [T.borrow, T.borrow, T.u64], result: T.result(T.u64, streamError) }, () => closed),
    '[method]output-stream.blocking-splice': plain({ params: [T.borrow, T.borrow, T.u64], result: T.result(T.u64, streamError) }, () => closed),
    // The guest's stdin is empty: every read finds its end.
    '[method]input-stream.read': plain({ params: [T.borrow, T.u64], result: T.result(T.list(T.u8), streamError) }, () => closed),
    '[method]input-stream.blocking-read': plain({ params: [T.borrow, T.u64], result: T.result(T.list(T.u8), streamError) }, () => closed),
    '[method]input-stream.skip': plain({ params: [T.borrow, T.u64], result: T.result(T.u64, streamError) }, () => closed),
    '[method]input-stream.blocking-skip': plain({ params: [T.borrow, T.u64], result: T.result(T.u64, streamError) }, () => closed),
    '[method]input-stream.subscribe': plain({ params: [T.borrow], result: T.own }, () => new Pollable()),
  },
  'wasi:cli/stdout': { 'get-stdout': plain({ params: [], result: T.own }, () => new OutputStream('stdout')) },
  'wasi:cli/stderr': { 'get-stderr': plain({ params: [], result: T.own }, () => new OutputStream('stderr')) },
  'wasi:cli/stdin': { 'get-stdin': plain({ params: [], result: T.own }, () => new InputStream()) },
  'wasi:cli/terminal-stdin': { 'get-terminal-stdin': plain({ params: [], result: T.option(T.own) }, () => undefined) },
  'wasi:cli/terminal-stdout': { 'get-terminal-stdout': plain({ params: [], result: T.option(T.own) }, () => undefined) },
  'wasi:cli/terminal-stderr': { 'get-terminal-stderr': plain({ params: [], result: T.option(T.own) }, () => undefined) },
  'wasi:cli/exit': {
    exit: plain({ params: [T.result()] }, (_h, [status]) => {
      throw new Error(`the guest exited (${(status as { tag: string }).tag === 'ok' ? 'success' : 'failure'}) instead of returning a response`);
    }),
  },
  'wasi:filesystem/preopens': {
    'get-directories': plain({ params: [], result: T.list(T.tuple(T.own, T.string)) }, () => []),
  },
  'wasi:cli/environment': {
    'get-environment': plain({ params: [], result: T.list(T.tuple(T.string, T.string)) }, (host) => host.env()),
    'get-arguments': plain({ params: [], result: T.list(T.string) }, () => []),
    'initial-cwd': plain({ params: [], result: T.option(T.string) }, () => undefined),
  },
};

/** A function that cannot be reached legitimately: it traps, whatever its signature. */
const TRAP: Binding = {
  type: { params: [] },
  suspends: false,
  impl: () => {
    throw new Error('the guest called a filesystem function without a file (there are no preopened directories)');
  },
};

/**
 * The binding of a WASI 0.2.x function, or undefined when this host leaves it to the glue.
 * `raw` bindings take the core arguments as they come (their types are never lifted).
 */
export function wasiImport(iface: string, name: string): (Binding & { raw?: boolean }) | undefined {
  const at = iface.indexOf('@');
  const bare = at < 0 ? iface : iface.slice(0, at);
  if (at >= 0 && !/^0\.2\.\d+$/.test(iface.slice(at + 1))) return undefined;
  if (UNREACHABLE.has(bare)) return { ...TRAP, raw: true };
  return WASI[bare]?.[name];
}
