// The WASI 0.2 functions this host binds itself, for components that import nothing else: the
// ones without resources (randomness, clocks' readings, the environment), which JS guests built
// with the `random` or `clocks` feature use. Components that import streams, pollables or files
// (stdio) still run through jco's glue and preview2-shim on a worker. Any 0.2.x version matches.

import { randomBytes, randomFillSync } from 'node:crypto';
import { T, type FuncType } from './canon.js';
import type { GuestHost } from './enoki-world.js';

interface Binding {
  type: FuncType;
  suspends: boolean;
  impl: (host: GuestHost, args: unknown[]) => unknown;
}

const datetime = T.record([['seconds', T.u64], ['nanoseconds', T.u32]]);

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
  },
  'wasi:cli/environment': {
    'get-environment': plain({ params: [], result: T.list(T.tuple(T.string, T.string)) }, (host) => host.env()),
    'get-arguments': plain({ params: [], result: T.list(T.string) }, () => []),
    'initial-cwd': plain({ params: [], result: T.option(T.string) }, () => undefined),
  },
};

/** The binding of a WASI 0.2.x function, or undefined when this host leaves it to the glue. */
export function wasiImport(iface: string, name: string): Binding | undefined {
  const at = iface.indexOf('@');
  const bare = at < 0 ? iface : iface.slice(0, at);
  if (at >= 0 && !/^0\.2\.\d+$/.test(iface.slice(at + 1))) return undefined;
  return WASI[bare]?.[name];
}
