// The paper's scale experiment (experiment-scale.py, load-scale.py of OpenFogStack/enoki): read
// and write throughput for item sizes from 1 B to 1 MB under 100 closed-loop clients. Client c
// sends "{c}-{size}": `read` reads its item data{c} (written by its first call), `write` stores a
// new item of {size} bytes under a random id. Paper: 150 s per point, sizes 1 B … 1 MB, the data
// at the edge or in the cloud, 3 repeats.
//
// Modes:
//   edge    function and data at edge1, client ↔ edge1 1 ms.
//   cloud   the function at edge1, its keygroup only in the cloud (deployed with kvNode=cloud):
//           its one KV call per request crosses the 25 ms edge ↔ cloud link, as in the paper.
//           No bandwidth limit is emulated, so large-item cloud throughput here is not bounded
//           by the paper's 100 Mbit/s link.
//   direct  edge1 without an emulated link (baseline).
// Each point gets its own function and keygroup (removed afterwards), so reads of one size never
// find items of another. `write` is built with WASI random (see functions/write/write.js).
//
//   node dist/bench/paper/scale.js [--clients 20] [--duration 3] [--sizes 1,1000,100000,1000000]
//                                  [--functions read,write] [--modes edge] [--full] [--out FILE]
import { parseArgs } from 'node:util';
import { summarize, type Summary } from '../stats.js';
import { builtFunction, startPaperCluster, type PaperCluster } from './cluster.js';
import { measureOn, report, positive } from './experiment.js';
import { HttpClient, closedLoop, table, warmUp, runMain } from './load.js';
import { pathDelay, type Site } from './network.js';

const MODES = ['edge', 'cloud', 'direct'] as const;
type Mode = (typeof MODES)[number];
const FUNCTIONS = ['read', 'write'] as const;
type Fn = (typeof FUNCTIONS)[number];
const PAPER_SIZES = [1, 100, 1000, 10000, 100000, 250000, 500000, 750000, 1000000];

function options() {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string' },
      duration: { type: 'string' },
      sizes: { type: 'string' },
      functions: { type: 'string', default: FUNCTIONS.join(',') },
      modes: { type: 'string' },
      full: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  const list = <T extends string>(raw: string, allowed: readonly T[], name: string): T[] => {
    const items = raw.split(',').filter(Boolean);
    for (const item of items) if (!allowed.includes(item as T)) throw new Error(`--${name}: ${item} is not one of ${allowed.join(', ')}`);
    return items as T[];
  };
  const full = values.full;
  return {
    // Quick: 20 clients, 4 sizes, 3 s a point, the edge only. --full: the paper's settings.
    clients: positive(values.clients ?? (full ? '100' : '20'), 'clients'),
    durationS: positive(values.duration ?? (full ? '150' : '3'), 'duration'),
    sizes: (values.sizes ?? (full ? PAPER_SIZES.join(',') : '1,1000,100000,1000000')).split(',').map((s) => positive(s, 'sizes')),
    functions: list(values.functions, FUNCTIONS, 'functions'),
    modes: list(values.modes ?? (full ? 'edge,cloud' : 'edge'), MODES, 'modes'),
    out: values.out,
  };
}

interface Point {
  fn: Fn;
  size: number;
  mode: Mode;
  /** Successful calls per second over the measured window. */
  throughput: number;
  /** Item bytes per second read or written, MB/s (10^6). */
  mbPerS: number;
  latency: Summary;
  errors: number;
  firstError?: string;
}

/** The function always runs at edge1; kvNode: where its keygroup lives when not at edge1. */
const ROUTES: Record<Mode, { node: 'edge1'; route: Site[]; kvNode?: 'cloud' }> = {
  edge: { node: 'edge1', route: ['client', 'edge1'] },
  cloud: { node: 'edge1', route: ['client', 'edge1'], kvNode: 'cloud' },
  direct: { node: 'edge1', route: ['client', 'edge1'] },
};

async function runPoint(cluster: PaperCluster, client: HttpClient, wasm: Record<Fn, Uint8Array>, fn: Fn, size: number, mode: Mode, opts: ReturnType<typeof options>): Promise<Point> {
  const { node, route, kvNode } = ROUTES[mode];
  const name = `${fn}-${mode}-s${size}`;
  await cluster.deploy(node, name, wasm[fn], name.replace(/-/g, ''), { kvNode });
  const base = mode === 'direct' ? cluster.nodes[node].url : await cluster.url(node, route);
  const url = `${base}/fn/${name}`;
  // Warm-up, not measured: each client's connection and (for read) its item, every worker's
  // instance; small items also give V8 time to optimise the guest (see warmUp).
  await Promise.all(Array.from({ length: opts.clients }, (_, c) => client.request(url, `${c}-${size}`)));
  if (size <= 100_000) await warmUp(client, url, (i) => `${i % opts.clients}-${size}`, { calls: 200, concurrency: opts.clients, maxMs: 1500 });

  const samples: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const until = start + opts.durationS * 1000;
  await closedLoop(opts.clients, until, async (c) => {
    const reply = await client.request(url, `${c}-${size}`).catch((err: Error) => ({ status: 0, body: err.message, start: 0, end: 0 }));
    if (reply.end > until) return; // finished after the window: not counted
    if (reply.status === 200) samples.push(reply.end - reply.start);
    else {
      errors++;
      firstError ??= `${reply.status} ${reply.body.slice(0, 200)}`;
    }
  });
  await cluster.remove(node, name).catch(() => undefined);
  const throughput = samples.length / opts.durationS;
  return { fn, size, mode, throughput: round(throughput), mbPerS: round((throughput * size) / 1e6), latency: summarize(samples), errors, firstError };
}

const round = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const opts = options();
  const nodes = opts.modes.includes('cloud') ? (['cloud', 'edge1'] as const) : (['edge1'] as const);
  process.stderr.write(`starting etcd, ${nodes.join(', ')} with the emulated links…\n`);
  const wasm = { read: await builtFunction('read'), write: await builtFunction('write') };
  const cluster = await startPaperCluster({ nodes: [...nodes] });
  const client = new HttpClient(opts.clients + 8);
  const points: Point[] = [];
  const cost = await measureOn(cluster, client, 'edge1', async () => {
    for (const mode of opts.modes) {
      for (const fn of opts.functions) {
        for (const size of opts.sizes) {
          process.stderr.write(`${mode} ${fn} ${size} B: ${opts.clients} clients for ${opts.durationS} s…\n`);
          points.push(await runPoint(cluster, client, wasm, fn, size, mode, opts));
        }
      }
    }
  });

  const rows = [['mode', 'link RTT', 'function', 'item bytes', 'calls/s', 'MB/s', 'p50', 'p99', 'errors']];
  for (const p of points) {
    const { route, kvNode } = ROUTES[p.mode];
    // The client's link, plus the KV call's round trip to the cloud.
    const rtt = p.mode === 'direct' ? 0 : 2 * pathDelay(route) + (kvNode ? 2 * pathDelay([route[route.length - 1], kvNode]) : 0);
    rows.push([p.mode, String(rtt), p.fn, String(p.size), String(p.throughput), String(p.mbPerS), String(p.latency.p50), String(p.latency.p99), String(p.errors)]);
    if (p.firstError) process.stderr.write(`${p.mode} ${p.fn} ${p.size}: first error ${p.firstError}\n`);
  }
  process.stdout.write(`throughput with ${opts.clients} closed-loop clients, ${opts.durationS} s a point; latency in ms\n` + table(rows));
  await report('scale', opts, { points }, cost, opts.out);
}

runMain(main);
