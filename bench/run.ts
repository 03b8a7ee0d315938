// The benchmark suite: cold start, warm invocation, KV, replication and memory, in that order,
// each with its baselines measured in the same run (nodes and helper servers are fresh child
// processes per scenario). Prints one table per scenario and the targets of issue 4 as met or
// missed, writes bench/results/<timestamp>.json and bench/results/latest.json, and draws SVG
// charts into bench/results/.
//
//   npm run bench              quick: a few minutes at most on 2 cores
//   npm run bench:full         more samples, longer load runs, every replication mode and method
//   node dist/bench/run.js [--full] [--only cold,warm,kv,replication,memory,peers] [--out-dir DIR]

import { execSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { machine } from './stats.js';
import { coldScenario, coldTables, type ColdSettings } from './suite/cold.js';
import type { BenchGuests } from './suite/guests.js';
import { ROOT, runScript } from './suite/harness.js';
import { kvScenario, kvTables, type KvSettings } from './suite/kv.js';
import { memoryScenario, memoryTables } from './suite/memory.js';
import { peersScenario, peersTables, type PeersSettings } from './suite/peers.js';
import { plots } from './suite/plots.js';
import { replicationScenario, replicationTables, type ReplicationSettings } from './suite/replication.js';
import { evaluateTargets, targetsTable, type SuiteResults } from './suite/targets.js';
import { warmScenario, warmTables, type WarmSettings } from './suite/warm.js';

const SCENARIOS = ['cold', 'warm', 'kv', 'replication', 'memory', 'peers'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Settings {
  cold: ColdSettings;
  warm: WarmSettings;
  kv: KvSettings;
  replication: ReplicationSettings;
  peers: PeersSettings;
}

const QUICK: Settings = {
  cold: { restarts: 3, deploys: 1, emptyStarts: 10, naiveCalls: { tiny: 200, js: 30 } },
  warm: { sequential: 1000, durationS: 2, connections: [1, 10, 50] },
  kv: { sequential: 400, repeat: 20 },
  replication: { writes: 300, rate: 100, rtt: 300, modes: ['async'], methods: ['trigger'] },
  peers: { sequential: 200, durationS: 2, connections: [1, 10, 50] },
};

const FULL: Settings = {
  cold: { restarts: 10, deploys: 3, emptyStarts: 30, naiveCalls: { tiny: 1000, js: 200 } },
  warm: { sequential: 5000, durationS: 10, connections: [1, 10, 50] },
  kv: { sequential: 2000, repeat: 50 },
  replication: { writes: 1000, rate: 100, rtt: 1000, modes: ['async', 'sync'], methods: ['trigger', 'poll'] },
  peers: { sequential: 1000, durationS: 10, connections: [1, 10, 50] },
};

function markdown(rows: string[][]): string {
  const [head, ...body] = rows;
  return [head, head.map(() => '---'), ...body].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

const round = (x: number) => Math.round(x * 100) / 100;

/** Uncommitted changes in the checkout being measured: the commit alone does not say what ran. */
function worktree(): string {
  try {
    const changed = execSync('git status --porcelain --untracked-files=no', { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return changed === '' ? 'clean' : `${changed.split('\n').length} tracked file(s) changed since the commit`;
  } catch {
    return 'unknown';
  }
}
const loadAverage = () => os.loadavg().map(round);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { full: { type: 'boolean', default: false }, only: { type: 'string' }, 'out-dir': { type: 'string' } },
  });
  const only = values.only ? values.only.split(',') : [...SCENARIOS];
  for (const s of only) if (!SCENARIOS.includes(s as Scenario)) throw new Error(`--only: ${s} is not one of ${SCENARIOS.join(', ')}`);
  const settings = values.full ? FULL : QUICK;
  const outDir = values['out-dir'] ?? path.join(ROOT, 'bench', 'results');
  const facts = { ...(machine() as { node: string; cpu: string; cores: number; commit: string; at: string }), loadAverageAtStart: loadAverage(), worktree: worktree() };
  const started = performance.now();
  process.stderr.write(`enoki bench (${values.full ? 'full' : 'quick'}): ${only.join(', ')}\n`);

  process.stderr.write('building the bench guests…\n');
  const guests = await runScript<BenchGuests>('./guests.js', []);

  const results: SuiteResults = {};
  const tables: Record<string, string[][][]> = {};
  const errors: Record<string, string> = {};
  const timing: Record<string, { seconds: number; loadAverageBefore: number[]; loadAverageAfter: number[] }> = {};
  const run = async <T>(name: Scenario, title: string, body: () => Promise<T>, toTables: (r: T) => string[][][]): Promise<T | undefined> => {
    if (!only.includes(name)) return undefined;
    process.stderr.write(`\n== ${title}\n`);
    const t = performance.now();
    const loadAverageBefore = loadAverage();
    try {
      const result = await body();
      tables[title] = toTables(result);
      for (const table of tables[title]) process.stdout.write(`\n${markdown(table)}\n`);
      return result;
    } catch (err) {
      errors[name] = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(`${name} failed: ${errors[name]}\n`);
      return undefined;
    } finally {
      timing[name] = { seconds: round((performance.now() - t) / 1000), loadAverageBefore, loadAverageAfter: loadAverage() };
    }
  };
  results.cold = await run('cold', '1. Cold start', () => coldScenario(settings.cold), coldTables);
  results.warm = await run('warm', '2. Warm invocation', () => warmScenario(settings.warm), warmTables);
  results.kv = await run('kv', '3. KV', () => kvScenario(settings.kv, guests.kv), kvTables);
  results.replication = await run('replication', '4. Replication', () => replicationScenario(settings.replication), replicationTables);
  results.memory = await run('memory', '5. Memory', () => memoryScenario(guests.tiny), memoryTables);
  results.peers = await run('peers', '6. Side by side with the peers', () => peersScenario(settings.peers), peersTables);

  const targets = evaluateTargets(results);
  process.stdout.write(`\n== Targets (issue 4)\n\n${markdown(targetsTable(targets))}\n`);

  const report = {
    machine: { ...facts, loadAverageAtEnd: loadAverage() },
    mode: values.full ? 'full' : 'quick',
    settings,
    units: { latency: 'ms', throughput: 'requests/s', memory: 'MiB (RSS)', perOpUs: 'µs' },
    seconds: round((performance.now() - started) / 1000),
    scenarios: timing,
    results,
    targets,
    errors,
  };
  await fs.mkdir(outDir, { recursive: true });
  const stamp = String(facts.at).replace(/[:.]/g, '-');
  const json = JSON.stringify(report, null, 2) + '\n';
  await fs.writeFile(path.join(outDir, `${stamp}.json`), json);
  await fs.writeFile(path.join(outDir, 'latest.json'), json);
  const note = `(${facts.cpu}, ${facts.cores} cores, Node ${facts.node}, commit ${facts.commit}, load average ${facts.loadAverageAtStart[0]} at start; ${report.mode} run)`;
  const charts = plots(results, note);
  for (const [file, svg] of Object.entries(charts)) await fs.writeFile(path.join(outDir, file), svg);
  process.stderr.write(
    `\n${report.seconds} s; wrote ${path.relative(process.cwd(), path.join(outDir, `${stamp}.json`))}, latest.json and ${Object.keys(charts).join(', ')}\n`,
  );
  if (Object.keys(errors).length > 0) {
    process.stderr.write(`failed scenarios: ${Object.keys(errors).join(', ')}\n`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
