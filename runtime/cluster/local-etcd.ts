// A single-member etcd on loopback, as a child process: found on PATH or in /usr/bin, or installed
// from Debian's etcd-server when the caller allows it. Used by `enoki cluster`, the replication
// bench and the tests (test/support/etcd.ts), so there is one way to find, install and start it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, createWriteStream, mkdirSync, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface LocalEtcd {
  /** Client URL, e.g. https://127.0.0.1:2479. */
  readonly endpoint: string;
  /** Process id of the running etcd, undefined between kill() and restart(). */
  readonly pid: number | undefined;
  /** Kills the process (SIGKILL, as a crash would) but keeps the data dir, so restart() can resume it. */
  kill(): Promise<void>;
  /** Starts etcd again on the same ports and data dir; resolves once it is healthy. */
  restart(): Promise<void>;
  /**
   * Stops etcd (SIGTERM, SIGKILL after 5 s) and removes the data dir if it was a temporary one.
   * Idempotent.
   */
  stop(): Promise<void>;
}

export interface LocalEtcdOptions {
  /** The binary; findEtcd()/findOrInstallEtcd() give one. */
  binary: string;
  /** Kept across runs when given; otherwise a temporary directory that stop() removes. */
  dataDir?: string;
  /**
   * Client port; the peer and health (metrics) listeners take the next two. 0 or absent: three
   * ports the OS reports free.
   */
  clientPort?: number;
  /** Bound on waiting for /health after the start (ms). */
  startTimeoutMs?: number;
  /** Serve clients over TLS and require client certificates signed by caFile (paths to PEM files). */
  tls?: { certFile: string; keyFile: string; caFile: string };
  /** etcd's own log (stderr) is appended here; without it only a tail is kept for error messages. */
  logFile?: string;
  /**
   * Run etcd in its own process group, so a terminal's Ctrl-C reaches only the caller, which then
   * stops its other children before etcd. Off by default: a test process interrupted by Ctrl-C
   * should take etcd down with it.
   */
  ownProcessGroup?: boolean;
}

export class EtcdNotFoundError extends Error {
  readonly code = 'ERR_ETCD_NOT_FOUND';
}

const INSTALL_TIMEOUT_MS = 10 * 60_000;
const INSTALL_HINT = 'Install it with: sudo apt-get install -y etcd-server (Debian/Ubuntu), or put an etcd binary on PATH';

// Safety net for a process that dies or exits without stop(): never leave etcd running.
const running = new Map<ChildProcess, string | undefined>(); // child → its data dir when temporary
let exitHookInstalled = false;
function watchChild(child: ChildProcess, temporaryDir: string | undefined): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const [proc, dir] of running) {
        proc.kill('SIGKILL');
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    });
  }
  running.set(child, temporaryDir);
  child.once('exit', () => running.delete(child));
}

/** The etcd binary on the given PATH or in /usr/bin, if any. */
export function findEtcd(searchPath: string | undefined): string | undefined {
  const dirs = [...(searchPath ?? '').split(path.delimiter).filter(Boolean), '/usr/bin'];
  for (const dir of dirs) {
    const candidate = path.join(dir, 'etcd');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export function canInstallEtcd(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * The etcd binary: found, or (with `install` and as root) installed from Debian's etcd-server
 * non-interactively. Throws EtcdNotFoundError saying how to install it otherwise.
 */
export function findOrInstallEtcd(options: { env: NodeJS.ProcessEnv; install: boolean }): string {
  const found = findEtcd(options.env.PATH);
  if (found) return found;
  if (!options.install) throw new EtcdNotFoundError(`etcd is not installed. ${INSTALL_HINT}`);
  if (!canInstallEtcd()) {
    throw new EtcdNotFoundError(`etcd is not installed and this process is not root, so it cannot install it. ${INSTALL_HINT}`);
  }
  // Non-interactive, bounded: there may be no stdin and a hung apt must fail, not stall.
  const env = { ...options.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args: string[]) => {
    const res = spawnSync('apt-get', args, { env, encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
    if (res.error || res.status !== 0) {
      const why = res.error ? res.error.message : `exit code ${res.status}`;
      throw new Error(`apt-get ${args.join(' ')} failed (${why}):\n${(res.stderr ?? '').slice(-2000)}`);
    }
  };
  // Wait for, rather than fail on, a dpkg lock held by another installer on the machine.
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  run([...lock, 'update']);
  run([...lock, 'install', '-y', '--no-install-recommends', 'etcd-server']);
  const after = findEtcd(options.env.PATH);
  if (!after) throw new EtcdNotFoundError('etcd-server was installed but no etcd binary was found on PATH or in /usr/bin');
  return after;
}

/** Starts etcd and resolves once it reports healthy; always pair with stop(). */
export async function startLocalEtcd(options: LocalEtcdOptions): Promise<LocalEtcd> {
  const { binary } = options;
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'enoki-etcd-'));
  if (!temporary) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const [clientPort, peerPort, healthPort] = options.clientPort
    ? [options.clientPort, options.clientPort + 1, options.clientPort + 2]
    : await freePorts(3);
  const endpoint = `${options.tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  // /health on a plain-HTTP metrics listener, so readiness never depends on client certificates.
  const health = `http://127.0.0.1:${healthPort}`;
  const args = [
    '--name', 'enoki',
    '--data-dir', dataDir,
    '--listen-client-urls', endpoint,
    '--advertise-client-urls', endpoint,
    '--listen-peer-urls', peer,
    '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `enoki=${peer}`,
    '--initial-cluster-state', 'new',
    '--listen-metrics-urls', health,
    '--logger', 'zap',
    '--log-level', 'warn',
  ];
  if (options.tls) {
    const { certFile, keyFile, caFile } = options.tls;
    args.push('--cert-file', certFile, '--key-file', keyFile, '--trusted-ca-file', caFile, '--client-cert-auth');
  }

  let child: ChildProcess | undefined;
  let stderr = '';
  let stopped = false;
  const log: WriteStream | undefined = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;

  const launch = async () => {
    stderr = '';
    const proc = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: options.ownProcessGroup ?? false });
    child = proc;
    watchChild(proc, temporary ? dataDir : undefined);
    proc.stderr!.on('data', (chunk: Buffer) => {
      log?.write(chunk);
      // Keep only the tail: enough to explain a failed start.
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const exited = new Promise<never>((_, reject) => {
      proc.once('error', (err) => reject(new Error(`could not run ${binary}: ${err.message}`)));
      proc.once('exit', (code, signal) =>
        reject(new Error(`etcd exited during start (code ${code}, signal ${signal}):\n${stderr}`)),
      );
    });
    exited.catch(() => undefined); // only observed through the race below
    try {
      await Promise.race([waitHealthy(health, startTimeoutMs), exited]);
    } catch (err) {
      await killChild(proc, 'SIGKILL');
      throw new Error(`${(err as Error).message}\n(etcd stderr tail: ${stderr.trim() || 'empty'})`);
    }
  };

  const kill = async () => {
    if (child) await killChild(child, 'SIGKILL');
    child = undefined;
  };

  const cleanUp = async () => {
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
    if (log) await new Promise<void>((resolve) => log.end(() => resolve()));
  };

  try {
    await launch();
  } catch (err) {
    await cleanUp();
    throw err;
  }
  return {
    endpoint,
    get pid() {
      return child?.pid;
    },
    kill,
    restart: async () => {
      if (stopped) throw new Error('etcd was stopped; start a new one');
      await kill();
      await launch();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (child) await killChild(child, 'SIGTERM');
      child = undefined;
      await cleanUp();
    },
  };
}

async function waitHealthy(endpoint: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { health?: string };
      if (body.health === 'true') return;
      last = JSON.stringify(body);
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`etcd at ${endpoint} not healthy after ${timeoutMs} ms (last: ${last})`);
}

/** Sends `signal`; a process still there after 5 s gets SIGKILL (and 5 s more, or an error). */
async function killChild(proc: ChildProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const gone = () => proc.exitCode !== null || proc.signalCode !== null;
  if (gone()) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const within = (ms: number) =>
    Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref())]);
  proc.kill(signal);
  if (await within(5000)) return;
  if (signal === 'SIGTERM') {
    proc.kill('SIGKILL');
    if (await within(5000)) return;
  }
  throw new Error(`etcd (pid ${proc.pid}) did not exit within 5 s of SIGKILL`);
}

/** Distinct ports that were free a moment ago (the OS picks them; the caller binds them right after). */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
