// The benchmark suite: cold start, warm invocation, KV, replication, the paper's *simple* at the
// edge, memory, the `npm start` node with 20 more functions, and a fresh clone, in that order,
// each with its baselines measured in the same run (nodes and helper servers are fresh child
// processes per scenario). Prints one table per scenario and the targets of issue 11 as met or
// missed with the Node version that ran them and the machine's load, writes
// bench/results/<timestamp>.json and bench/results/latest.json, and draws SVG charts into
// bench/results/.
//
// The Pi-class profile (--pi) runs the paper, memory and examples scenarios with every node in a
// cgroup of 512 MiB and one core (cgroup.ts), checks for OOM kills and failed requests, and writes
// bench/results/pi-latest.json; it refuses to run without such limits.
//
//   npm run bench              quick: a few minutes on 2 cores (plus a one-time build of the bench's guests)
//   npm run bench:full         more samples, longer load runs, every replication mode and method
//   npm run bench -- --pi      the Pi-class profile (as root, cgroup v1; or inside systemd-run limits)
//   node dist/bench/run.js [--full] [--pi] [--only cold,warm,kv,replication,paper,memory,examples,fresh,peers] [--out-dir DIR]

import { execSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { machine } from './stats.js';
import { CgroupsUnavailable, NodeCgroups, PI_PROFILE, enclosingLimits, type CgroupUsage, type EnclosingLimits } from './suite/cgroup.js';
import { coldScenario, coldTables, type ColdSettings } from './suite/cold.js';
import { examplesNodeScenario, examplesNodeTables } from './suite/examples-node.js';
import { freshCloneScenario, freshCloneTables, type FreshCloneSettings } from './suite/fresh-clone.js';
import type { BenchGuests } from './suite/guests.js';
import { ROOT, limitNodes, runScript } from './suite/harness.js';
import { kvScenario, kvTables, type KvSettings } from './suite/kv.js';
import { memoryScenario, memoryTables } from './suite/memory.js';
import { paperSimpleScenario, paperSimpleTables, type PaperSimpleSettings } from './suite/paper-simple.js';
import { peersScenario, peersTables, type PeersSettings } from './suite/peers.js';
import { plots } from './suite/plots.js';
import { replicationScenario, replicationTables, type ReplicationSettings } from './suite/replication.js';
import { evaluateTargets, piVerdict, targetsTable, type SuiteResults, type TargetVerdict } from './suite/targets.js';
import { warmScenario, warmTables, type WarmSettings } from './suite/warm.js';

const SCENARIOS = ['cold', 'warm', 'kv', 'replication', 'paper', 'memory', 'examples', 'fresh', 'peers'] as const;
type Scenario = (typeof SCENARIOS)[number];
/** What the Pi-class profile runs: the memory figures and the paper's *simple*. */
const PI_SCENARIOS: Scenario[] = ['paper', 'memory', 'examples'];

interface Settings {
  cold: ColdSettings;
  warm: WarmSettings;
  kv: KvSettings;
  replication: ReplicationSettings;
  paper: PaperSimpleSettings;
  fresh: FreshCloneSettings;
  peers: PeersSettings;
}

const QUICK: Settings = {
  cold: { restarts: 5, deploys: 1, emptyStarts: 10, naiveCalls: { tiny: 200, js: 30 } },
  warm: { sequential: 1000, durationS: 2, connections: [1, 10, 50] },
  kv: { sequential: 400, repeat: 20 },
  replication: { writes: 300, rate: 100, rtt: 300, modes: ['async'], methods: ['trigger'] },
  paper: { durationS: 15 },
  fresh: { restarts: 2 },
  peers: { sequential: 200, durationS: 2, connections: [1, 10, 50] },
};

const FULL: Settings = {
  cold: { restarts: 10, deploys: 3, emptyStarts: 30, naiveCalls: { tiny: 1000, js: 200 } },
  warm: { sequential: 5000, durationS: 10, connections: [1, 10, 50] },
  kv: { sequential: 2000, repeat: 50 },
  replication: { writes: 1000, rate: 100, rtt: 1000, modes: ['async', 'sync'], methods: ['trigger', 'poll'] },
  paper: { durationS: 60 },
  fresh: { restarts: 5 },
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

type Limits = { kind: 'cgroups'; cgroups: NodeCgroups } | { kind: 'enclosing'; limits: EnclosingLimits };

/** The Pi-class profile's limits, or an exit with the reason when there are none to run under. */
async function piLimits(): Promise<Limits> {
  try {
    return { kind: 'cgroups', cgroups: await NodeCgroups.open(PI_PROFILE) };
  } catch (err) {
    if (!(err instanceof CgroupsUnavailable)) throw err;
    const outer = enclosingLimits();
    const fits = outer && outer.memoryBytes <= PI_PROFILE.memoryBytes && outer.cpuCores <= PI_PROFILE.cpuCores;
    if (outer && fits) {
      process.stderr.write(`cgroups for each node are not available (${err.message});\nrunning inside the limits this bench runs in (${outer.where}): ${Math.round(outer.memoryBytes / 2 ** 20)} MiB, ${outer.cpuCores} core(s), shared by the nodes and the bench's own processes\n`);
      return { kind: 'enclosing', limits: outer };
    }
    process.stderr.write(
      `--pi: cgroups are not available, so the Pi-class profile cannot run: ${err.message}.\n` +
        (outer ? `This process runs under ${Math.round(outer.memoryBytes / 2 ** 20)} MiB and ${outer.cpuCores} core(s) (${outer.where}), looser than the profile's 512 MiB and 1 core.\n` : '') +
        'Run it as root with the cgroup v1 memory and cpu controllers mounted, or inside limits made outside:\n' +
        '  sudo systemd-run --scope -p MemoryMax=512M -p CPUQuota=100% npm run bench -- --pi\n',
    );
    process.exit(2);
  }
}

function cgroupTable(used: CgroupUsage[]): string[][] {
  const rows = [['limited process', 'limit MiB / cores', 'peak MiB', 'limit hits', 'OOM kills', 'CPU throttled (periods; ms)']];
  for (const u of used) {
    rows.push([u.label, `${u.memoryLimitMiB} / ${u.cpuCores}`, String(u.peakMiB ?? '?'), String(u.limitHits ?? '?'), String(u.oomKills ?? '?'), `${u.throttledPeriods ?? '?'} of ${u.periods ?? '?'}; ${u.throttledMs ?? '?'}`]);
  }
  return rows;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { full: { type: 'boolean', default: false }, pi: { type: 'boolean', default: false }, only: { type: 'string' }, 'out-dir': { type: 'string' } },
  });
  const only = values.only ? values.only.split(',') : values.pi ? [...PI_SCENARIOS] : [...SCENARIOS];
  for (const s of only) {
    if (!SCENARIOS.includes(s as Scenario)) throw new Error(`--only: ${s} is not one of ${SCENARIOS.join(', ')}`);
    if (values.pi && !PI_SCENARIOS.includes(s as Scenario)) throw new Error(`--only: the Pi-class profile runs ${PI_SCENARIOS.join(', ')}, not ${s}`);
  }
  const settings = values.full ? FULL : QUICK;
  const outDir = values['out-dir'] ?? path.join(ROOT, 'bench', 'results');
  const limits = values.pi ? await piLimits() : undefined;
  if (limits?.kind === 'cgroups') limitNodes(limits.cgroups);
  const facts = { ...(machine() as { node: string; cpu: string; cores: number; commit: string; at: string }), loadAverageAtStart: loadAverage(), worktree: worktree() };
  const started = performance.now();
  const profile = !limits
    ? ''
    : limits.kind === 'cgroups'
      ? `, Pi-class profile: ${PI_PROFILE.memoryBytes / 2 ** 20} MiB and ${PI_PROFILE.cpuCores} core per node, a cgroup v1 each`
      : `, Pi-class profile: ${Math.round(limits.limits.memoryBytes / 2 ** 20)} MiB and ${limits.limits.cpuCores} core(s) for everything the bench runs`;
  process.stderr.write(`enoki bench (${values.full ? 'full' : 'quick'}${profile}) on Node ${process.version}: ${only.join(', ')}\n`);

  process.stderr.write('building the bench guests…\n');
  const guests = await runScript<BenchGuests>('./guests.js', [], 1_800_000);

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
      process.stdout.write(`\n== ${title} (Node ${process.version}, load average ${loadAverageBefore[0]} → ${loadAverage()[0]})\n`);
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
  const cgroups = limits?.kind === 'cgroups' ? limits.cgroups : undefined;
  results.cold = await run('cold', '1. Cold start', () => coldScenario(settings.cold), coldTables);
  results.warm = await run('warm', '2. Warm invocation', () => warmScenario(settings.warm, guests.kv), warmTables);
  results.kv = await run('kv', '3. KV', () => kvScenario(settings.kv, guests.kv), kvTables);
  results.replication = await run('replication', '4. Replication', () => replicationScenario(settings.replication), replicationTables);
  results.paper = await run('paper', '5. Paper *simple* at the edge', () => paperSimpleScenario(settings.paper, cgroups), paperSimpleTables);
  results.memory = await run('memory', '6. Memory', () => memoryScenario(guests.tiny, guests.js), memoryTables);
  results.examples = await run('examples', '7. The `npm start` node + 20 JS functions', () => examplesNodeScenario(guests.js), examplesNodeTables);
  results.fresh = await run('fresh', '8. Fresh clone', () => freshCloneScenario(settings.fresh), freshCloneTables);
    results.peers = await run('peers', '9. Side by side with the peers', () => peersScenario(settings.peers), peersTables);

  const load = (v: TargetVerdict) => {
    if (v.wholeRun) return `${facts.loadAverageAtStart[0]} → ${loadAverage()[0]} (whole run)`;
    const t = timing[v.scenario];
    return t ? `${t.loadAverageBefore[0]} → ${t.loadAverageAfter[0]}` : '—';
  };
  let targets = evaluateTargets(results).filter((v) => !values.pi || only.includes(v.scenario));
  let used: CgroupUsage[] | undefined;
  if (limits) {
    used = limits.kind === 'cgroups' ? limits.cgroups.used : [limits.limits.usage('everything the bench ran (enclosing limits)')];
    targets = [...targets, piVerdict(results, used, only, Object.keys(errors))];
    process.stdout.write(`\n== Pi-class profile: limited processes\n\n${markdown(cgroupTable(used))}\n`);
  }
  const heading = values.pi ? 'Targets under the Pi-class profile (issue 11)' : 'Targets (issue 11)';
  const rows = targetsTable(targets).map((row, i) => [...row, i === 0 ? 'load average (1 min) during the scenario' : load(targets[i - 1])]);
  process.stdout.write(`\n== ${heading}: Node ${process.version}, ${facts.cpu}, ${facts.cores} cores, commit ${facts.commit}\n\n${markdown(rows)}\n`);
  const met = targets.filter((v) => v.met === true).length;
  const measured = targets.filter((v) => v.met !== undefined).length;
  process.stdout.write(`\n${met} of ${measured} measured targets met (${targets.length} in all)\n`);

  const report = {
    machine: { ...facts, loadAverageAtEnd: loadAverage() },
    mode: values.full ? 'full' : 'quick',
    pi: limits ? { profile: PI_PROFILE, limits: limits.kind === 'cgroups' ? 'a cgroup v1 per node' : `enclosing: ${limits.limits.where}`, used } : undefined,
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
  const name = values.pi ? `${stamp}-pi.json` : `${stamp}.json`;
  const latest = values.pi ? 'pi-latest.json' : 'latest.json';
  await fs.writeFile(path.join(outDir, name), json);
  await fs.writeFile(path.join(outDir, latest), json);
  const written = [name, latest];
  // Charts show the default run; the profile's figures are in its JSON and tables.
  if (!values.pi) {
    const note = `(${facts.cpu}, ${facts.cores} cores, Node ${facts.node}, commit ${facts.commit}, load average ${facts.loadAverageAtStart[0]} at start; ${report.mode} run)`;
    const charts = plots(results, note);
    for (const [file, svg] of Object.entries(charts)) await fs.writeFile(path.join(outDir, file), svg);
    written.push(...Object.keys(charts));
  }
  process.stderr.write(`\n${report.seconds} s; wrote ${written.map((f) => path.relative(process.cwd(), path.join(outDir, f))).join(', ')}\n`);
  if (Object.keys(errors).length > 0) {
    process.stderr.write(`failed scenarios: ${Object.keys(errors).join(', ')}\n`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
