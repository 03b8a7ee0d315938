// Scenario 8, a fresh clone as a new user meets it: `git clone` of this repository at its HEAD
// commit into a temporary folder, `npm install` (timed on its own: it depends on the network and
// npm's cache), then `npm start` until the first `GET /fn/counter` answers 200, with the time of
// each phase npm runs (the prestart compilation of the TypeScript, the node starting, then the
// examples being built and deployed until counter answers) so the report says what dominates. Then restarts: that node stopped and
// started again with `npm start`, and with `enoki start --examples` directly (the CLI with the
// same Node), each timed to its first 200. Uncommitted changes of the checkout are not in the clone.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { summarize, type Summary } from '../stats.js';
import { ROOT, benchEnv, runChild, sleep, tempDir } from './harness.js';

export interface FreshCloneSettings {
  /** Restarts with `npm start` and with `enoki start`, each. */
  restarts: number;
}

export interface StartPhases {
  /** Spawn → first 200 of GET /fn/counter, ms. */
  totalMs: number;
  /** Spawn → npm's prestart (the TypeScript's compilation) begins, and each later phase's start, ms since spawn. */
  marks: Record<string, number>;
  /** Lines of build:functions: how many guests it built and how many it found current. */
  guestsBuilt: number;
  guestsCached: number;
  /** Test fixtures among the guests built (functions/build/fixtures/). */
  fixturesBuilt: number;
}

export interface FreshCloneResult {
  commit: string;
  /** The Node `npm start` ran in the clone (the clone's node_modules/.bin first on PATH). */
  node: string;
  install: { ms: number; summary: string };
  firstStart: StartPhases;
  restartNpm: Summary;
  restartCli: Summary;
  restartNpmPhases: StartPhases[];
  restartCliMs: number[];
}

const GIT_ENV = { GIT_TERMINAL_PROMPT: '0' };

function get(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(5000, () => req.destroy());
  });
}

interface Started {
  phases: StartPhases;
  stop(): Promise<void>;
}

/**
 * Runs `command` in the clone (own process group, so that npm, its shell and the node stop
 * together), marks the lines that begin each phase, and waits for the node's URL and then for
 * the first 200 of /fn/counter.
 */
async function startAndServe(clone: string, command: string, args: string[], timeoutMs: number): Promise<Started> {
  const t = performance.now();
  const child = spawn(command, args, {
    cwd: clone,
    // PORT=0: a free port (8080 may be taken on a shared machine); otherwise npm start's defaults.
    env: benchEnv({ PORT: '0', ENOKI_HOST: '127.0.0.1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const marks: Record<string, number> = {};
  let output = '';
  const built = new Set<string>();
  const cached = new Set<string>();
  let url: string | undefined;
  const onLine = (line: string) => {
    const ms = Math.round(performance.now() - t);
    const script = /^> \S+ (prestart|build|build:functions|start)$/.exec(line.trim());
    if (script && marks[script[1]] === undefined) marks[script[1]] = ms;
    const current = /^(\S+): cached \(/.exec(line);
    if (current) cached.add(current[1]);
    const building = /building (\S+) .*done in \d/.exec(line);
    if (building) built.add(building[1]);
    // `npm start` says where it serves at once ("serving on URL; building…") and "listening on
    // URL" once every example is deployed; the first served request can come before that.
    const listening = /(?:serving|listening) on (http:\/\/[^\s;]+)/.exec(line);
    if (listening && !url) {
      url = listening[1];
      marks.listening = ms;
    }
  };
  let pending = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let closed = false;
  void exited.then(() => (closed = true));
  const stop = async () => {
    if (!closed) {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      const force = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 15_000);
      await exited;
      clearTimeout(force);
    }
  };
  try {
    const deadline = t + timeoutMs;
    for (;;) {
      if (closed) throw new Error(`${command} ${args.join(' ')} exited before serving:\n${output.trim().split('\n').slice(-15).join('\n')}`);
      if (performance.now() > deadline) throw new Error(`${command} ${args.join(' ')}: no 200 from /fn/counter after ${timeoutMs} ms:\n${output.trim().split('\n').slice(-15).join('\n')}`);
      if (url && (await get(`${url}/fn/counter`)) === 200) break;
      await sleep(url ? 5 : 20);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const totalMs = Math.round(performance.now() - t);
  const fixturesBuilt = [...built].filter((name) => name.startsWith('fixtures/')).length;
  return { phases: { totalMs, marks, guestsBuilt: built.size, guestsCached: cached.size, fixturesBuilt }, stop };
}

export async function freshCloneScenario(s: FreshCloneSettings): Promise<FreshCloneResult> {
  const commit = (await runChild('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { env: GIT_ENV })).trim();
  const dir = await tempDir('fresh-clone');
  const clone = path.join(dir, 'enoki');
  try {
    process.stderr.write(`  git clone (commit ${commit.slice(0, 7)}), npm install\n`);
    await runChild('git', ['clone', '--quiet', '--no-checkout', ROOT, clone], { env: GIT_ENV });
    await runChild('git', ['-C', clone, 'checkout', '--quiet', '--detach', commit], { env: GIT_ENV });
    const ti = performance.now();
    const installOut = await runChild('npm', ['install'], { cwd: clone, timeoutMs: 900_000 });
    const install = { ms: Math.round(performance.now() - ti), summary: /added \d+ packages?[^\n]*/.exec(installOut)?.[0] ?? installOut.trim().split('\n').pop() ?? '' };
    const localNode = path.join(clone, 'node_modules', '.bin', 'node');
    const node = (await runChild(existsSync(localNode) ? localNode : 'node', ['-v'])).trim();

    process.stderr.write('  npm start, first time (prestart builds everything it needs)\n');
    const first = await startAndServe(clone, 'npm', ['start'], 900_000);
    await first.stop();

    const npmRestarts: StartPhases[] = [];
    const cliRestarts: number[] = [];
    const cli = path.join(clone, 'dist', 'runtime', 'cli', 'main.js');
    process.stderr.write(`  restart to first request: ${s.restarts} × npm start, ${s.restarts} × enoki start\n`);
    for (let i = 0; i < s.restarts; i++) {
      const again = await startAndServe(clone, 'npm', ['start'], 300_000);
      npmRestarts.push(again.phases);
      await again.stop();
      const direct = await startAndServe(clone, process.execPath, [cli, 'start', '--examples'], 300_000);
      cliRestarts.push(direct.phases.totalMs);
      await direct.stop();
    }
    return {
      commit,
      node,
      install,
      firstStart: first.phases,
      restartNpm: summarize(npmRestarts.map((p) => p.totalMs)),
      restartCli: summarize(cliRestarts),
      restartNpmPhases: npmRestarts,
      restartCliMs: cliRestarts,
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** The phases of one `npm start`, as [phase, ms] from its marks. */
function phases(p: StartPhases): Array<[string, number]> {
  const order = ['prestart', 'build', 'build:functions', 'start', 'listening'];
  const at = order.map((k) => [k, p.marks[k]] as const).filter(([, v]) => v !== undefined) as Array<[string, number]>;
  const out: Array<[string, number]> = [];
  let previous = 0;
  let previousName = 'npm itself';
  for (const [name, ms] of at) {
    out.push([previousName, ms - previous]);
    previous = ms;
    previousName =
      name === 'prestart'
        ? 'prestart: compiling the TypeScript unless dist/ is current'
        : name === 'build'
          ? 'prestart: tsc (npm run build)'
          : name === 'build:functions'
            ? 'prestart: building the guests (npm run build:functions)' : name === 'start' ? 'the node starting (until it serves)' : 'serving → first 200 of /fn/counter (the examples built and deployed, counter first)';
  }
  out.push([previousName, p.totalMs - previous]);
  return out;
}

export function freshCloneTables(r: FreshCloneResult): string[][][] {
  const first = [['fresh clone (commit ' + r.commit.slice(0, 7) + ', ' + r.node + ')', 'ms']];
  first.push(['`npm install` (apart from the target)', `${r.install.ms} (${r.install.summary})`]);
  for (const [name, ms] of phases(r.firstStart)) first.push([`first \`npm start\`: ${name}`, String(ms)]);
  first.push([`first \`npm start\` to the first 200, in all (guests built: ${r.firstStart.guestsBuilt}, of them test fixtures: ${r.firstStart.fixturesBuilt}; already current: ${r.firstStart.guestsCached})`, String(r.firstStart.totalMs)]);
  const again = [['restart to first 200 of /fn/counter', 'p50 ms', 'each run, ms']];
  again.push(['`npm start` (prestart included)', String(r.restartNpm.p50), r.restartNpmPhases.map((p) => p.totalMs).join(', ')]);
  again.push(['`enoki start --examples` directly', String(r.restartCli.p50), r.restartCliMs.join(', ')]);
  if (r.restartNpmPhases[0]) for (const [name, ms] of phases(r.restartNpmPhases[0])) again.push([`npm start restart: ${name}`, String(ms), '']);
  return [first, again];
}
