// Cold and warm invocation latency of the example functions, next to a bare Hono route
// (/healthz) of the same server, measured in one run. Each node runs as its own process, as a
// user would run it; "cold" is the first request after a restart (compile + instantiate + call).
//
//   node dist/bench/latency.js [--restarts 5] [--warm 500] [--out bench/results/latency.json]

import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machine, summarize, type Summary } from './stats.js';

const CLI = fileURLToPath(new URL('../runtime/cli/main.js', import.meta.url));
const BUILD = fileURLToPath(new URL('../../functions/build', import.meta.url));
const TOKEN = 'bench-token';
const FUNCTIONS = [
  { name: 'hello', kind: 'WAT (tiny)', init: {} as RequestInit },
  { name: 'echo', kind: 'JS', init: { method: 'POST', body: 'hi' } as RequestInit },
  { name: 'counter', kind: 'JS, increment', init: {} as RequestInit },
  { name: 'movingaverage', kind: 'JS, 4 KV ops', init: { method: 'POST', body: '0-42' } as RequestInit },
];

const { values } = parseArgs({
  options: { restarts: { type: 'string', default: '5' }, warm: { type: 'string', default: '500' }, out: { type: 'string' } },
});
const restarts = Number(values.restarts);
const warmN = Number(values.warm);

async function startNode(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, 'start', '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, ENOKI_ADMIN_TOKEN: TOKEN, ENOKI_HOST: '127.0.0.1', ENOKI_LOG_LEVEL: 'warn', ENOKI_PREWARM: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (c: Buffer) => {
      out += c;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`node exited ${code}: ${out}`)));
  });
  return { child, url };
}

async function stop(child: ChildProcess): Promise<void> {
  agent.destroy();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

// node:http with keep-alive rather than fetch: undici's client costs ~0.7 ms per request here,
// more than the server work being measured.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function timed(url: string, init: RequestInit): Promise<number> {
  const body = init.body as string | undefined;
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const req = http.request(url, { method: init.method ?? 'GET', agent }, (res) => {
      res.resume();
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 400) reject(new Error(`${url}: HTTP ${res.statusCode}`));
        else resolve(performance.now() - t);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-bench-'));
  let { child, url } = await startNode(dataDir);
  const firstAfterDeploy: Record<string, number> = {};
  for (const fn of FUNCTIONS) {
    const res = await fetch(`${url}/functions/${fn.name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: await fs.readFile(path.join(BUILD, `${fn.name}.wasm`)),
    });
    if (!res.ok) throw new Error(`deploy ${fn.name}: ${await res.text()}`);
    firstAfterDeploy[fn.name] = Math.round((await timed(`${url}/fn/${fn.name}`, fn.init)) * 1000) / 1000;
  }
  const cold: Record<string, number[]> = Object.fromEntries(FUNCTIONS.map((f) => [f.name, []]));
  for (let r = 0; r < restarts; r++) {
    for (const fn of FUNCTIONS) {
      await stop(child);
      ({ child, url } = await startNode(dataDir));
      await timed(`${url}/healthz`, {});
      cold[fn.name].push(await timed(`${url}/fn/${fn.name}`, fn.init));
    }
  }
  const warm: Record<string, Summary> = {};
  const baseline = async () => {
    const samples: number[] = [];
    for (let i = 0; i < warmN; i++) samples.push(await timed(`${url}/healthz`, {}));
    return summarize(samples);
  };
  for (let i = 0; i < 200; i++) await timed(`${url}/healthz`, {});
  warm['bare Hono route'] = await baseline();
  for (const fn of FUNCTIONS) {
    for (let i = 0; i < 50; i++) await timed(`${url}/fn/${fn.name}`, fn.init);
    const samples: number[] = [];
    for (let i = 0; i < warmN; i++) samples.push(await timed(`${url}/fn/${fn.name}`, fn.init));
    warm[fn.name] = summarize(samples);
  }
  warm['bare Hono route (again)'] = await baseline();
  await stop(child);
  await fs.rm(dataDir, { recursive: true, force: true });

  const report = {
    machine: machine(),
    settings: { restarts, warm: warmN, workers: 'default' },
    cold: Object.fromEntries(Object.entries(cold).map(([k, v]) => [k, summarize(v)])),
    firstAfterDeploy,
    warm,
  };
  const rows = [['function', 'kind', 'cold p50 ms', 'warm p50 ms', 'warm p99 ms', 'warm p50 − bare']];
  const bare = warm['bare Hono route'].p50;
  rows.push(['/healthz', 'bare Hono route', '—', String(bare), String(warm['bare Hono route'].p99), '0']);
  for (const fn of FUNCTIONS) {
    rows.push([fn.name, fn.kind, String(report.cold[fn.name].p50), String(warm[fn.name].p50), String(warm[fn.name].p99), (warm[fn.name].p50 - bare).toFixed(3)]);
  }
  process.stdout.write(rows.map((r) => '| ' + r.join(' | ') + ' |').join('\n') + '\n');
  process.stdout.write(JSON.stringify(report.machine) + '\n');
  if (values.out) {
    await fs.mkdir(path.dirname(values.out), { recursive: true });
    await fs.writeFile(values.out, JSON.stringify(report, null, 2));
  }
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
});
