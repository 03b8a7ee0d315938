// The WASI imports a guest may use, all in-process and without host access: stdout and stderr
// go to the invocation's log lines, the environment is the function's deploy-time env, the
// filesystem has no preopened directories, and clocks and randomness are the usual ones. Backed
// by preview2-shim's pure-JS (browser) implementation, which does no I/O of its own; its Node
// build would start an I/O thread per worker and write to the node's own stdout. Waiting
// (wasi:io/poll, clock pollables) blocks the worker for real (worlds/sync-io.ts): the shim's
// pollables answer with promises, which only a JSPI host can await.

import { OutputLines } from '../output-lines.js';
import { createSyncIo, HostEvents, type ShimIo, type SyncIo } from './worlds/sync-io.js';

type Shim = Record<string, Record<string, unknown>>;

export type StdStream = 'stdout' | 'stderr';

export interface WasiHost {
  imports: Record<string, unknown>;
  /** preview2-shim's io, whose stream classes every stream a guest gets must be. */
  io: ShimIo;
  sync: SyncIo;
  /** Call after every invocation so partial lines land in that invocation's log. */
  endCall(): void;
}

interface ShimStreams {
  InputStream: { prototype: Record<string, unknown> };
  OutputStream: { prototype: Record<string, unknown> };
}

/** The largest length preview2-shim's streams take (a u64 past it is a RangeError to them). */
const SHIM_MAX_LENGTH = BigInt(Number.MAX_SAFE_INTEGER);
const lengthsAccepted = Symbol('enoki: any u64 length');

/**
 * WASI lets a guest ask a stream for up to any u64 of bytes, and some do: Rust's wstd copies a
 * body with `read(u64::MAX)`, "what there is". preview2-shim throws on a length above 2^53 − 1,
 * which traps the guest. No stream holds that much, so such a length is cut to the largest the
 * shim takes before it sees it (the inline engine's streams do the same). Once per shim module.
 */
function acceptAnyLength(streams: ShimStreams): void {
  const patch = (proto: Record<string | symbol, unknown>, methods: string[], at: number) => {
    for (const name of methods) {
      const original = proto[name] as (...args: unknown[]) => unknown;
      proto[name] = function (this: unknown, ...args: unknown[]) {
        const len = args[at];
        if (typeof len === 'bigint' && len > SHIM_MAX_LENGTH) args[at] = SHIM_MAX_LENGTH;
        return original.apply(this, args);
      };
    }
  };
  const input = streams.InputStream.prototype as Record<string | symbol, unknown>;
  if (input[lengthsAccepted]) return;
  input[lengthsAccepted] = true;
  patch(input, ['read', 'blockingRead', 'skip', 'blockingSkip'], 0);
  patch(streams.OutputStream.prototype as Record<string | symbol, unknown>, ['splice', 'blockingSplice'], 1);
}

export async function createWasiHost(
  emit: (stream: StdStream, line: string) => void,
  environment: () => [string, string][],
  /** Where answers for a busy guest arrive; outside a guest worker there are none. */
  events: HostEvents = HostEvents.none(),
): Promise<WasiHost> {
  const base = import.meta.resolve('@bytecodealliance/preview2-shim');
  const load = async (name: string) => (await import(new URL(`../browser/${name}.js`, base).href)) as Shim;
  const [cli, io, filesystem, random, clocks, sockets] = await Promise.all(['cli', 'io', 'filesystem', 'random', 'clocks', 'sockets'].map(load));
  const lines = new OutputLines(emit);
  const handler = (stream: StdStream) => ({
    write: (bytes: Uint8Array) => lines.write(stream, bytes),
    blockingFlush: () => undefined,
    flush: () => undefined,
  });
  acceptAnyLength(io.streams as unknown as ShimStreams);
  const sync = createSyncIo(io as unknown as ShimIo, events);
  const created = (cli.createCli as unknown as (config: object) => Shim)({ stdout: handler('stdout'), stderr: handler('stderr') });
  const imports: Record<string, unknown> = {
    'wasi:cli/environment': {
      getEnvironment: () => environment(),
      getArguments: () => [],
      initialCwd: () => undefined,
    },
    'wasi:cli/exit': created.exit,
    'wasi:cli/stdin': created.stdin,
    'wasi:cli/stdout': created.stdout,
    'wasi:cli/stderr': created.stderr,
    'wasi:cli/terminal-input': created.terminalInput,
    'wasi:cli/terminal-output': created.terminalOutput,
    'wasi:cli/terminal-stdin': created.terminalStdin,
    'wasi:cli/terminal-stdout': created.terminalStdout,
    'wasi:cli/terminal-stderr': created.terminalStderr,
    'wasi:io/error': io.error,
    'wasi:io/poll': sync.pollImports,
    'wasi:io/streams': io.streams,
    // No directories are preopened, so a guest can name no file.
    'wasi:filesystem/preopens': { getDirectories: () => [] },
    'wasi:filesystem/types': filesystem.types,
    'wasi:random/random': random.random,
    'wasi:random/insecure': random.insecure,
    'wasi:random/insecure-seed': random.insecureSeed,
    'wasi:clocks/monotonic-clock': sync.monotonicClock(clocks.monotonicClock),
    'wasi:clocks/wall-clock': clocks.wallClock,
    // The browser build's sockets: a network handle, and `not-supported` for any socket or lookup.
    'wasi:sockets/instance-network': sockets.instanceNetwork,
    'wasi:sockets/network': sockets.network,
    'wasi:sockets/tcp': sockets.tcp,
    'wasi:sockets/tcp-create-socket': sockets.tcpCreateSocket,
    'wasi:sockets/udp': sockets.udp,
    'wasi:sockets/udp-create-socket': sockets.udpCreateSocket,
    'wasi:sockets/ip-name-lookup': sockets.ipNameLookup,
  };
  return {
    imports,
    io: io as unknown as ShimIo,
    sync,
    endCall() {
      lines.end();
    },
  };
}
