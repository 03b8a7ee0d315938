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
