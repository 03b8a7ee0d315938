// Starts a throwaway single-member etcd on loopback for tests (installing Debian's etcd-server if needed).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface TestEtcd {
  /** Client URL, e.g. http://127.0.0.1:41234. */
  readonly endpoint: string;
  /** Kills the process (SIGKILL, as a crash would) but keeps the data dir, so restart() can resume it. */
  kill(): Promise<void>;
  /** Starts etcd again on the same ports and data dir; resolves once it is healthy. */
  restart(): Promise<void>;
  /** Kills etcd and removes its data dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartEtcdOptions {
  /** Bound on waiting for /health after the start (ms). */
  startTimeoutMs?: number;
  /** Serve clients over TLS and require client certificates signed by caFile (paths to PEM files). */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

const INSTALL_TIMEOUT_MS = 10 * 60_000;
let installed: string | undefined;

// Safety net for a test process that dies or exits without stop(): never leave etcd running.
const running = new Map<ChildProcess, string>(); // child → its data dir
process.on('exit', () => {
  for (const [child, dataDir] of running) {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

/** Starts etcd; always pair with stop() (e.g. in a suite's `after`). */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<TestEtcd> {
  const binary = findOrInstallEtcd();
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'enoki-etcd-'));
  const [clientPort, peerPort, healthPort] = await freePorts(3);
  const endpoint = `${options.tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  // /health on a plain-HTTP metrics listener, so readiness never depends on client certificates.
  const health = `http://127.0.0.1:${healthPort}`;
  const args = [
    '--name', 'test',
    '--data-dir', dataDir,
    '--listen-client-urls', endpoint,
    '--advertise-client-urls', endpoint,
    '--listen-peer-urls', peer,
    '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `test=${peer}`,
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

  const launch = async () => {
    stderr = '';
    const proc = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    running.set(proc, dataDir);
    proc.once('exit', () => running.delete(proc));
    proc.stderr!.on('data', (chunk: Buffer) => {
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
      await killChild(proc);
      throw new Error(`${(err as Error).message}\n(etcd stderr tail: ${stderr.trim() || 'empty'})`);
    }
  };

  const kill = async () => {
    if (child) await killChild(child);
    child = undefined;
  };

  try {
    await launch();
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    endpoint,
    kill,
    restart: async () => {
      if (stopped) throw new Error('etcd was stopped; start a new one');
      await kill();
      await launch();
    },
    stop: async () => {
      stopped = true;
      await kill();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The etcd binary: on PATH, in /usr/bin, or installed from Debian's etcd-server (root only). */
export function findOrInstallEtcd(): string {
  if (installed) return installed;
  const found = findEtcd();
  if (found) return (installed = found);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    throw new Error(
      'etcd is not installed and this process is not root, so it cannot install it. ' +
        'Install it with: sudo apt-get install -y etcd-server',
    );
  }
  // Non-interactive, bounded: CI has no stdin and a hung apt must fail the run, not stall it.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
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
  const after = findEtcd();
  if (!after) throw new Error('etcd-server was installed but no etcd binary was found on PATH or in /usr/bin');
  return (installed = after);
}

function findEtcd(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/bin'];
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

async function killChild(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGKILL');
  const timer = new Promise<void>((_, reject) =>
    setTimeout(() => reject(new Error(`etcd (pid ${proc.pid}) did not exit within 5 s of SIGKILL`)), 5000).unref(),
  );
  await Promise.race([gone, timer]);
}

/** Distinct ports that were free a moment ago (the OS picks them; etcd binds them right after). */
async function freePorts(n: number): Promise<number[]> {
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
