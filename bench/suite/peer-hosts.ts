// The hosts of the peers scenario, each serving one wasi:http component as a child process:
// Enoki (a node with the component deployed), `jco serve` (the installed jco) and `wasmtime
// serve` (wasmtime-cli built once with cargo into a cache outside the repository). Every host
// gives each request a fresh instance: Enoki and wasmtime always do, jco serve with
// --isolate-requests instance (its default keeps one instance, which a StarlingMonkey guest
// cannot serve twice).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchEnv, deploy, ROOT, runChild, startBenchNode, tempDir } from './harness.js';

export const WASMTIME_VERSION = '48.0.8';
export const WASMTIME_ROOT = path.join(os.homedir(), '.cache', 'enoki', `wasmtime-cli-${WASMTIME_VERSION}`);
const WASMTIME = path.join(WASMTIME_ROOT, 'bin', 'wasmtime');
const JCO = path.join(ROOT, 'node_modules', '@bytecodealliance', 'jco', 'dist', 'jco.js');
const JCO_KEYVALUE = fileURLToPath(new URL('./peers-jco-keyvalue.js', import.meta.url));

export interface RunningHost {
  /** Base URL; the component answers at `base + route`. */
  base: string;
  route: string;
  /** The serving process (its children included for RSS). */
  pid: number;
  /** From the spawn to the end of the first successful response, ms. */
  firstMs: number;
  /** How the serving process ended, once it has (for a failure's message); undefined while it runs. */
  ended?(): string | undefined;
  stop(): Promise<void>;
}

export interface PeerHost {
  name: string;
  /** How the host is run, for the report. */
  how: string;
  /** Why the host is not measured in this run; undefined when it is. */
  skipped?: string;
  /** Prepares a component once (Enoki: deploys it into a data directory kept for restarts). */
  prepare(component: string, kv: boolean): Promise<void>;
  /** Starts the host serving the prepared component; resolves once it listens. */
  start(component: string, kv: boolean): Promise<RunningHost>;
  dispose(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resident memory of a process and all its descendants, bytes (Linux /proc). */
export function treeRssBytes(pid: number): number {
  let total = 0;
  const visit = (p: number) => {
    try {
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      total += kb ? Number(kb[1]) * 1024 : 0;
      for (const task of readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/)) if (task) visit(Number(task));
    } catch {
      // gone, or no procfs
    }
  };
  visit(pid);
  return total;
}

/** A child process that serves on `port`; its stderr tail is kept for error messages. */
function serveChild(command: string, args: string[], port: number, route: string): Omit<RunningHost, 'firstMs'> & { child: ChildProcess; failed: Promise<string>; spawnedAt: number } {
  const spawnedAt = performance.now();
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: benchEnv(), detached: true });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err = (err + c).slice(-3000)));
  const failed = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`${path.basename(command)} exited (${code ?? signal}): ${err.trim()}`)));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    child,
    failed,
    spawnedAt,
    base: `http://127.0.0.1:${port}`,
    route,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // The whole group: jco serve runs the server as a child of its own.
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
      const killer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Waits until the host answers `route` with a 2xx (its first request), or it exits. */
async function listening(host: ReturnType<typeof serveChild>, timeoutMs = 300_000): Promise<RunningHost> {
  const deadline = performance.now() + timeoutMs;
  let exitMessage: string | undefined;
  void host.failed.then((m) => (exitMessage = m));
  for (;;) {
    if (exitMessage) throw new Error(exitMessage);
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get(host.base + host.route, (res) => {
        res.resume();
        res.on('end', () => resolve((res.statusCode ?? 0) < 300));
      });
      req.on('error', () => resolve(false));
    });
    if (ok) return { ...host, firstMs: performance.now() - host.spawnedAt };
    if (performance.now() > deadline) {
      await host.stop();
      throw new Error(`no answer on ${host.base} after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function enokiHost(): Promise<PeerHost> {
  const dirs = new Map<string, string>();
  return {
    name: 'Enoki',
    how: 'a node (default settings, prewarming off) with the component deployed; restarted on its data directory',
    async prepare(component) {
      const dir = await tempDir('peers');
      const node = await startBenchNode(dir);
      try {
        await deploy(node, 'c', component);
      } finally {
        await node.stop();
      }
      dirs.set(component, dir);
    },
    async start(component) {
      const node = await startBenchNode(dirs.get(component)!);
      const first = await node.client.send('/fn/c');
      if (first.status >= 300) throw new Error(`Enoki: first request answered ${first.status}: ${first.body.slice(0, 300)}`);
      return { base: node.url, route: '/fn/c', pid: node.pid, firstMs: node.startMs + first.ms, ended: node.ended, stop: async () => void (await node.stop()) };
    },
    async dispose() {
      for (const dir of dirs.values()) await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

export async function jcoHost(): Promise<PeerHost> {
  return {
    name: 'jco serve',
    how: `jco serve --isolate-requests instance (jco ${JSON.parse(readFileSync(path.join(ROOT, 'node_modules', '@bytecodealliance', 'jco', 'package.json'), 'utf8')).version}); the KV counter with an in-memory wasi:keyvalue the bench adds (jco has none)`,
    async prepare() {},
    async start(component, kv) {
      const port = await freePort();
      const args = [JCO, 'serve', '--port', String(port), '--host', '127.0.0.1', '--isolate-requests', 'instance', ...(kv ? ['--jco-import', JCO_KEYVALUE] : []), component];
      return listening(serveChild(process.execPath, args, port, '/'));
    },
    async dispose() {},
  };
}

/**
 * `cargo install` into WASMTIME_ROOT, its build directory kept there too: a build that was
 * interrupted, or one already running (cargo then waits for its lock), is continued, not redone.
 */
function cargoInstall(): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = ['install', 'wasmtime-cli', '--version', WASMTIME_VERSION, '--locked', '--root', WASMTIME_ROOT];
    const child = spawn('cargo', args, { stdio: ['ignore', 'ignore', 'pipe'], env: benchEnv({ CARGO_TARGET_DIR: path.join(WASMTIME_ROOT, 'target') }) });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err = (err + c).slice(-2000)));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`cargo install failed (${code}): ${err.trim()}`))));
  });
}

/** wasmtime-cli from crates.io, built once into WASMTIME_ROOT; skipped with the reason where that fails. */
export async function wasmtimeHost(): Promise<PeerHost> {
  let skipped: string | undefined;
  if (!existsSync(WASMTIME)) {
    try {
      await runChild('cargo', ['--version']);
    } catch {
      skipped = 'cargo is not installed, so wasmtime-cli cannot be built here';
    }
    if (!skipped) {
      process.stderr.write(`  building wasmtime-cli ${WASMTIME_VERSION} into ${WASMTIME_ROOT} (once; long on 2 cores)…\n`);
      try {
        await cargoInstall();
      } catch (err) {
        skipped = `wasmtime-cli ${WASMTIME_VERSION} could not be built: ${(err as Error).message.split('\n').slice(-3).join(' ')}`;
      }
    }
  }
  let version = WASMTIME_VERSION;
  if (!skipped) version = (await runChild(WASMTIME, ['--version'])).trim();
  return {
    name: 'wasmtime serve',
    how: `${version}: wasmtime serve -S cli -S keyvalue (its in-memory wasi:keyvalue)`,
    skipped,
    async prepare() {},
    async start(component) {
      const port = await freePort();
      const args = ['serve', '--addr', `127.0.0.1:${port}`, '-S', 'cli', '-S', 'keyvalue', component];
      return listening(serveChild(WASMTIME, args, port, '/'));
    },
    async dispose() {},
  };
}
