// The paper's "simple" experiment (experiment-simple.py, load-simple.py of OpenFogStack/enoki):
// the moving-average function (4 KV operations a call) invoked by 10 client threads at 1 request
// per second each, with the data at the edge or in the cloud, over emulated links (client ↔ edge
// 1 ms, edge ↔ cloud 25 ms one-way). Paper, 3 × 5 min per mode: p50 21 ms at the edge, 218 ms
// with the data in the cloud.
//
// Modes:
//   plain     not the runtime: a plain Node HTTP server answering a JS handler (the warm bench's
//             bench/suite/plain-server.js), no link, the same client and pacing: what a request
//             at this rate costs on the machine itself (not a mode of the paper; not run by default).
//   direct    the edge's function without any emulated link: the runtime's own share (baseline).
//   edge      function and data at edge1, client ↔ edge1 1 ms: the paper's edge mode.
//   cloud     the paper's cloud mode: the function at edge1 (client ↔ edge1 1 ms), its keygroup
//             only in the cloud (deployed with kvNode=cloud), so each of its KV calls crosses the
//             25 ms edge ↔ cloud link through edge1's egress proxy: get and scan during the call,
//             then the two sets when the call commits (one Update each, in order).
//   cloud-fn  function and data in the cloud, reached through the edge (client → edge1 → cloud):
//             one wide-area round trip per call; not a mode of the paper (not run by default).
//
//   node dist/bench/paper/simple.js [--duration 15] [--threads 10] [--frequency 1]
//                                   [--modes plain,direct,edge,cloud] [--full] [--out FILE]
import { parseArgs } from 'node:util';
import { summarize, type Summary } from '../stats.js';
import { startScriptServer } from '../suite/harness.js';
import { builtFunction, startPaperCluster, type NodeSite, type PaperCluster } from './cluster.js';
import { measureOn, report, parseModes, positive } from './experiment.js';
import { HttpClient, pacedLoop, sleep, table, warmUp, runMain } from './load.js';
import { PAPER_DELAYS, pathDelay, type Site } from './network.js';

const MODES = ['plain', 'direct', 'edge', 'cloud', 'cloud-fn'] as const;
type Mode = (typeof MODES)[number];
const DEFAULT_MODES: Mode[] = ['direct', 'edge', 'cloud'];

/** Where the client sends each mode's requests, and the function's name there. */
const ROUTES: Record<Mode, { route: Site[]; fn: string }> = {
  plain: { route: ['client'], fn: 'echo' },
  direct: { route: ['client', 'edge1'], fn: 'movingaverage' },
  edge: { route: ['client', 'edge1'], fn: 'movingaverage' },
  cloud: { route: ['client', 'edge1'], fn: 'movingaverage-remote' },
  'cloud-fn': { route: ['client', 'edge1', 'cloud'], fn: 'movingaverage' },
};

/** KV round trips of one call that cross a link: get, scan, and the commit's two Updates. */
const KV_ROUND_TRIPS: Partial<Record<Mode, number>> = { cloud: 4 };

/** From the original results.csv: movingaverage, 10 threads at 1/s, 3 repeats of 5 min (ms). */
const PAPER = { edge: { p50: 21.0, p95: 25.1, p99: 27.9 }, cloud: { p50: 218.3, p95: 223.3, p99: 225.7 } };

function options() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      threads: { type: 'string', default: '10' },
      frequency: { type: 'string', default: '1' },
      modes: { type: 'string', default: DEFAULT_MODES.join(',') },
      full: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  const modes = parseModes(values.modes, MODES);
  return {
    // Quick: 15 s a mode (about 150 requests); --full: the paper's 5 minutes.
    durationS: positive(values.duration ?? (values.full ? '300' : '15'), 'duration'),
    threads: positive(values.threads, 'threads'),
    frequency: positive(values.frequency, 'frequency'),
    modes,
    out: values.out,
  };
}

interface ModeResult {
  mode: Mode;
  route: string;
  /** Round trip of the emulated links alone, ms. */
  networkRttMs: number;
  latency: Summary;
  errors: number;
  statuses: Record<string, number>;
  /** [ms since the mode's start, latency ms] of each successful call, in completion order. */
  samples: Array<[number, number]>;
}

async function runMode(cluster: PaperCluster, client: HttpClient, mode: Mode, opts: ReturnType<typeof options>, plainUrl?: string): Promise<ModeResult> {
  const { route, fn } = ROUTES[mode];
  const node = route[route.length - 1] as NodeSite;
  const base = mode === 'plain' ? plainUrl! : mode === 'direct' ? cluster.nodes.edge1.url : await cluster.url(node, route);
  const url = `${base}/fn/${fn}`;
  await warmUp(client, url, (i) => `${i % opts.threads}-10`, { concurrency: opts.threads });
  await cluster.network.stats(true);

  const samples: Array<[number, number]> = [];
  const statuses: Record<string, number> = {};
  const began = performance.now();
  const until = began + opts.durationS * 1000;
  const period = 1000 / opts.frequency;
  await Promise.all(
    Array.from({ length: opts.threads }, async (_, thread) => {
      await sleep((period / opts.threads) * thread); // staggered start, as load-simple.py
      await pacedLoop(opts.frequency, until, async () => {
        // The original's input: "{thread}-{parameter}" with parameter 10.
        const reply = await client.request(url, `${thread}-10`).catch(() => undefined);
        const status = String(reply?.status ?? 'failed');
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (reply?.status === 200) samples.push([round(reply.start - began), round(reply.end - reply.start)]);
      });
    }),
  );
  const errors = Object.entries(statuses).filter(([s]) => s !== '200').reduce((n, [, c]) => n + c, 0);
  return {
    mode,
    route: ROUTE_NAMES[mode] ?? route.join(' → '),
    // The client's path, plus each KV call's round trip across the edge ↔ cloud link.
    networkRttMs: mode === 'direct' || mode === 'plain' ? 0 : 2 * pathDelay(route) + (KV_ROUND_TRIPS[mode] ?? 0) * 2 * PAPER_DELAYS.edgeCloud,
    latency: summarize(samples.map(([, ms]) => ms)),
    errors,
    statuses,
    samples,
  };
}

const ROUTE_NAMES: Partial<Record<Mode, string>> = {
  plain: 'client → a plain Node server (no runtime, no link)',
  direct: 'client → edge1 (no emulated link)',
  cloud: 'client → edge1, KV edge1 → cloud',
};

const round = (x: number) => Math.round(x * 1000) / 1000;

async function main(): Promise<void> {
  const opts = options();
  const needsCloud = opts.modes.some((m) => m === 'cloud' || m === 'cloud-fn');
  process.stderr.write(`starting etcd, ${needsCloud ? 'cloud and edge1' : 'edge1'} with the emulated links…\n`);
  const cluster = await startPaperCluster({ nodes: needsCloud ? ['cloud', 'edge1'] : ['edge1'] });
  const client = new HttpClient();
  const results: ModeResult[] = [];
  const plain = opts.modes.includes('plain') ? await startScriptServer('./plain-server.js') : undefined;
  const cost = await measureOn(cluster, client, 'edge1', async () => {
    const wasm = await builtFunction('movingaverage');
    // Separate keygroups, each held by one node only (one replica, as FReD held it in the
    // paper's runs): edge1's own, and the cloud's, which edge1's second function uses remotely.
    await cluster.deploy('edge1', 'movingaverage', wasm, 'movingaverageedge');
    if (opts.modes.includes('cloud')) await cluster.deploy('edge1', 'movingaverage-remote', wasm, 'movingaverageremote', { kvNode: 'cloud' });
    if (opts.modes.includes('cloud-fn')) await cluster.deploy('cloud', 'movingaverage', wasm, 'movingaveragecloud');
    for (const mode of opts.modes) {
      process.stderr.write(`${mode}: ${opts.threads} threads at ${opts.frequency}/s for ${opts.durationS} s…\n`);
      results.push(await runMode(cluster, client, mode, opts, plain?.url));
    }
  }).finally(() => plain?.stop());

  const rows = [['mode', 'route', 'link RTT', 'n', 'p50', 'p95', 'p99', 'mean', 'errors', 'paper p50 / p95 / p99']];
  for (const r of results) {
    const paper = r.mode === 'edge' ? PAPER.edge : r.mode === 'cloud' ? PAPER.cloud : undefined;
    const l = r.latency;
    rows.push([r.mode, r.route, String(r.networkRttMs), String(l.n), String(l.p50), String(l.p95), String(l.p99), String(l.mean), String(r.errors), paper ? `${paper.p50} / ${paper.p95} / ${paper.p99}` : '—']);
  }
  process.stdout.write('movingaverage latency, ms\n' + table(rows));
  await report('simple', opts, { results, paper: PAPER }, cost, opts.out);
}

runMain(main);
