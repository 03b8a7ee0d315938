// The WASI 0.2 functions this host binds itself, so that guests built with the `random`, `clocks`
// or `stdio` feature run inline too: randomness, clocks and timers, the environment, stdout and
// stderr (into the invocation's log lines), an stdin at its end, no terminals, no preopened
// directories (so no file can be named: every other filesystem function traps if ever reached).
// Streams and pollables are in streams.ts, wasi:http's types in http-world.ts; sockets, outgoing
// HTTP and anything else still run through jco's glue and preview2-shim on a worker. Any 0.2.x
// version matches.

import { randomBytes, randomFillSync } from 'node:crypto';
import { T } from './canon.js';
import { plain, type Binding } from './binding.js';
import { EmptyInput, IO_BINDINGS, Pollable, StdioOutput } from './streams.js';

const datetime = T.record([['seconds', T.u64], ['nanoseconds', T.u32]]);

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
  ...IO_BINDINGS,
  'wasi:cli/stdout': { 'get-stdout': plain({ params: [], result: T.own }, () => new StdioOutput('stdout')) },
  'wasi:cli/stderr': { 'get-stderr': plain({ params: [], result: T.own }, () => new StdioOutput('stderr')) },
  'wasi:cli/stdin': { 'get-stdin': plain({ params: [], result: T.own }, () => new EmptyInput()) },
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
export function wasiImport(iface: string, name: string): Binding | undefined {
  const at = iface.indexOf('@');
  const bare = at < 0 ? iface : iface.slice(0, at);
  if (at >= 0 && !/^0\.2\.\d+$/.test(iface.slice(at + 1))) return undefined;
  if (UNREACHABLE.has(bare)) return { ...TRAP, raw: true };
  return WASI[bare]?.[name];
}
