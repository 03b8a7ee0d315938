// What the suite's scenarios share: Enoki nodes and helper servers as child processes, deploys,
// timed requests over one keep-alive connection, interleaved sequential measurements, and a
// process's resident memory.

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnNode, type NodeProcess } from '../../runtime/cli/node-process.js';
import { summarize, type Summary } from '../stats.js';
import type { CgroupUsage, NodeCgroups } from './cgroup.js';

/** The repository root, from dist/bench/suite/. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Example functions built by `npm run build:functions`. */
export const EXAMPLES = path.join(ROOT, 'functions', 'build');
/** The bench's own guests (bench/guests/), built by guests.ts; gitignored. */
export const BENCH_BUILD = path.join(ROOT, 'bench', 'build');
export const TOKEN = 'bench-token';

/**
 * The environment of every process the suite starts: the caller's, without NODE_EXTRA_CA_CERTS,
 * which makes Node parse a CA bundle at every start (~130 ms on the machine of the README's
 * numbers) and would inflate the empty-node baseline and every node start alike.
 */
export function benchEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

export interface Request {
  method?: string;
  body?: string;
}

/** Requests over one keep-alive connection. node:http rather than fetch: undici's client costs
 * ~0.7 ms per request here, more than much of the server work being measured. */
export class HttpClient {
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(readonly base: string) {}

  send(route: string, init: Request = {}): Promise<{ ms: number; status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const t = performance.now();
      const req = http.request(this.base + route, { method: init.method ?? 'GET', agent: this.#agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ ms: performance.now() - t, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(init.body);
    });
  }

  /** Milliseconds of one request; an error status is an error. */
  async timed(route: string, init: Request = {}): Promise<number> {
    const res = await this.send(route, init);
    if (res.status >= 400) throw new Error(`${init.method ?? 'GET'} ${this.base}${route}: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
    return res.ms;
  }

  close(): void {
    this.#agent.destroy();
  }
}

export interface BenchNode {
  url: string;
  pid: number;
  client: HttpClient;
  /** From spawn to "listening", ms. */
  startMs: number;
  /** Undefined while the process runs; how it ended otherwise (a kill by the kernel included). */
  ended(): string | undefined;
  /** Stops the node; resolves to its cgroup's usage when it ran in one (the Pi-class profile). */
  stop(): Promise<CgroupUsage | undefined>;
}

export interface BenchNodeOptions {
  /** Extra arguments of `enoki start` (e.g. --examples). */
  args?: string[];
  env?: Record<string, string>;
  /** Names the node in messages and in the profile's cgroup report. */
  label?: string;
  startTimeoutMs?: number;
}

let limits: NodeCgroups | undefined;

/**
 * From now on every node startBenchNode starts runs in a cgroup of its own made by `cgroups`
 * (the Pi-class profile); undefined: no limits.
 */
export function limitNodes(cgroups: NodeCgroups | undefined): void {
  limits = cgroups;
}

export async function startBenchNode(dataDir: string, env: Record<string, string> = {}, options: BenchNodeOptions = {}): Promise<BenchNode> {
  const label = options.label ?? `node (${path.basename(dataDir)})`;
  const cgroup = limits ? await limits.create(label) : undefined;
  const t = performance.now();
  let node: NodeProcess;
  try {
    const spawn = () =>
      spawnNode({
        name: label,
        args: ['--port', '0', '--data-dir', dataDir, ...(options.args ?? [])],
        // Prewarming is off unless a scenario asks for it: cold starts are measured as cold.
        env: benchEnv({ ENOKI_ADMIN_TOKEN: TOKEN, ENOKI_HOST: '127.0.0.1', ENOKI_LOG_LEVEL: 'warn', ENOKI_PREWARM: '0', ...env, ...options.env }),
        startTimeoutMs: options.startTimeoutMs ?? 60_000,
      });
    // Under the Pi-class profile the node is born in its cgroup (spawnNode forks before its first await).
    node = await (cgroup ? cgroup.startInside(spawn) : spawn());
  } catch (err) {
    if (cgroup) await limits!.finish(cgroup);
    throw err;
  }
  const startMs = performance.now() - t;
  const client = new HttpClient(node.url);
  let usage: Promise<CgroupUsage | undefined> | undefined;
  const stop = () =>
    (usage ??= (async () => {
      client.close();
      await node.stop();
      return cgroup ? limits!.finish(cgroup) : undefined;
    })());
  let ended: string | undefined;
  void node.exited.then(({ code, signal }) => (ended = signal ? `killed by ${signal}` : `exited with code ${code}`));
  try {
    cgroup?.verify(node.pid);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: node.url, pid: node.pid, client, startMs, ended: () => ended, stop };
}

/**
 * Runs a scenario's work on `node`; when it fails because the node died under it, says so (the
 * Pi-class profile's memory limit kills with SIGKILL) instead of the failed request's error.
 */
export async function onNode<T>(node: BenchNode, what: string | (() => string), work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    await sleep(200); // the exit is noticed a moment after the connection broke
    const ended = node.ended();
    if (ended) throw new Error(`${typeof what === 'string' ? what : what()}: the node ${ended} (pid ${node.pid})`, { cause: err });
    throw err;
  }
}

/** PUT /functions/{name}; resolves to the deploy's duration in ms. */
export async function deploy(node: BenchNode, name: string, wasmFile: string): Promise<number> {
  const body = await fs.readFile(wasmFile);
  const t = performance.now();
  const res = await fetch(`${node.url}/functions/${name}`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}` }, body });
  if (!res.ok) throw new Error(`deploy ${name}: HTTP ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
  return performance.now() - t;
}

/** A gauge or counter without labels from the node's /metrics. */
export async function metric(node: BenchNode, name: string): Promise<number | undefined> {
  const text = (await node.client.send('/metrics')).body;
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

export async function tempDir(label: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `enoki-bench-${label}-`));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resident set size of a process in bytes (Linux /proc, otherwise ps). */
export async function rssBytes(pid: number): Promise<number> {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
    if (kb) return Number(kb[1]) * 1024;
  } catch {
    // no procfs
  }
  const out = await runChild('ps', ['-o', 'rss=', '-p', String(pid)]);
  return Number(out.trim()) * 1024;
}

/**
 * CPU time each thread of a process has used so far (ns, by thread id), from
 * /proc/<pid>/task/<tid>/schedstat; undefined without procfs. Threads that ended before the
 * reading are not in it.
 */
export function threadCpuNs(pid: number): Map<string, number> | undefined {
  const times = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        times.set(tid, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    return undefined;
  }
  return times;
}

/** CPU time a process has used so far, all its live threads (ns); undefined without procfs. */
export function cpuNs(pid: number): number | undefined {
  const times = threadCpuNs(pid);
  return times && [...times.values()].reduce((a, b) => a + b, 0);
}

/** RSS once the process has been left alone for `settleMs`: the median of 5 readings 100 ms apart. */
export async function settledRss(pid: number, settleMs = 1000): Promise<number> {
  await sleep(settleMs);
  const readings: number[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(await rssBytes(pid));
    await sleep(100);
  }
  return readings.sort((a, b) => a - b)[2];
}

export const MiB = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

export interface Target {
  label: string;
  client: HttpClient;
  route: string;
  init?: Request;
}

/**
 * Sequential latency of several targets, interleaved: `rounds` rounds, each doing n/rounds
 * requests to every target in turn, so drift of a shared machine spreads over all of them.
 */
export async function sequential(targets: Target[], n: number, rounds = 5, warmup = 100): Promise<Record<string, Summary>> {
  const samples: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t.label, []]));
  for (const t of targets) for (let i = 0; i < warmup; i++) await t.client.timed(t.route, t.init);
  const perRound = Math.ceil(n / rounds);
  for (let r = 0; r < rounds; r++) {
    for (const t of targets) for (let i = 0; i < perRound; i++) samples[t.label].push(await t.client.timed(t.route, t.init));
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)]));
}

/** Runs a command to completion; resolves to its stdout, rejects with its stderr's tail. */
export function runChild(command: string, args: string[], options: { timeoutMs?: number; env?: Record<string, string>; cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: benchEnv(options.env), cwd: options.cwd });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (err = (err + c).slice(-4000)));
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${path.basename(command)} ${args.map((a) => path.basename(a)).join(' ')} failed (${code ?? signal}):\n${err.trim()}`));
    });
  });
}

/** Runs a script of the suite with this Node; resolves to the JSON on its stdout's last line. */
export async function runScript<T>(script: string, args: string[], timeoutMs = 600_000): Promise<T> {
  const out = await runChild(process.execPath, [fileURLToPath(new URL(script, import.meta.url)), ...args], { timeoutMs });
  return JSON.parse(out.trim().split('\n').pop() as string) as T;
}

/** A helper server of the suite (e.g. the plain-JS baseline) as a child process. */
export async function startScriptServer(script: string): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(script, import.meta.url))], { stdio: ['ignore', 'ignore', 'pipe'], env: benchEnv() });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      err += c;
      const m = /listening on (\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}): ${err}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  return {
    url,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
