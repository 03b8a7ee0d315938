// The paper's replication experiment (experiment-replication.py, load-replication.py of
// OpenFogStack/enoki): a writer at edge 1 and a reader at edge 2 call the `replication` function
// 10 times a second each; the writer stores a fresh random value, the reader reads it back. For
// each read the staleness is measured as the original did: 0 if the reader got the value of the
// last write acknowledged so far, else the time since the write that overwrote the value it got
// was acknowledged. Replication is asynchronous, as FReD's was (--peer-async-replication).
// Paper: read at the edge with a replica, p50 9.7 ms; staleness p50 2.3 ms.
//
// Modes (the paper's labels in brackets), as run-replication.sh set them up: the writer's
// function always runs at edge1 and the reader's at edge2, each client 1 ms from its edge; what
// changes is where the keygroup lives.
//   edge   [Edge (Repl.)] the keygroup on edge1 and edge2: both functions use a local replica.
//   p2p    [Edge (No Repl.)] the keygroup on edge1 only: the reader's function at edge2 is
//          deployed with kvNode=edge1, so its read crosses the 10 ms edge ↔ edge link.
//   cloud  [Cloud] the keygroup in the cloud only: both functions are deployed with kvNode=cloud,
//          so every read and write crosses a 25 ms edge ↔ cloud link.
//
// The reader calls at a random point of each period unless --phase locked (see randomPhaseLoop).
//
//   node dist/bench/paper/replication.js [--duration 15] [--frequency 10] [--modes edge,p2p,cloud]
//                                        [--phase random|locked] [--full] [--out FILE]
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { summarize, type Summary } from '../stats.js';
import { builtFunction, startPaperCluster, type NodeSite, type PaperCluster } from './cluster.js';
import { measureOn, report, parseModes, positive } from './experiment.js';
import { HttpClient, pacedLoop, sleep, table, warmUp, runMain } from './load.js';
import { pathDelay, type Site } from './network.js';

const MODES = ['edge', 'p2p', 'cloud'] as const;
type Mode = (typeof MODES)[number];

const PAPER = { edge: { readP50: 9.7, stalenessP50: 2.3 } };

interface Route {
  keygroup: string;
  /** Where the keygroup lives: the writer's and reader's functions use it there. */
  data: NodeSite[];
  writer: Site[];
  reader: Site[];
}

const WRITER: Site[] = ['client', 'edge1'];
const READER: Site[] = ['client', 'edge2'];

const ROUTES: Record<Mode, Route> = {
  edge: { keygroup: 'replicationedge', data: ['edge1', 'edge2'], writer: WRITER, reader: READER },
  p2p: { keygroup: 'replicationp2p', data: ['edge1'], writer: WRITER, reader: READER },
  cloud: { keygroup: 'replicationcloud', data: ['cloud'], writer: WRITER, reader: READER },
};

/** The node whose replica serves a function at `node`: its own if it holds one, else the first holder. */
function kvNodeFor(route: Route, node: NodeSite): NodeSite | undefined {
  return route.data.includes(node) ? undefined : route.data[0];
}

function options() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      frequency: { type: 'string', default: '10' },
      modes: { type: 'string', default: MODES.join(',') },
      phase: { type: 'string', default: 'random' },
      full: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  const modes = parseModes(values.modes, MODES);
  if (values.phase !== 'random' && values.phase !== 'locked') throw new Error(`--phase must be random or locked, got ${values.phase}`);
  return {
    durationS: positive(values.duration ?? (values.full ? '300' : '15'), 'duration'),
    frequency: positive(values.frequency, 'frequency'),
    phase: values.phase as 'random' | 'locked',
    modes,
    out: values.out,
  };
}

interface ModeResult {
  mode: Mode;
  writerRoute: string;
  readerRoute: string;
  write: Summary;
  read: Summary;
  /** The original's definition (see the header). */
  staleness: Summary;
  /** Only values already overwritten when the read was sent count (the original also counted
   *  writes acknowledged while the read was under way). */
  stalenessStrict: Summary;
  staleReads: number;
  staleReadsStrict: number;
  errors: { write: number; read: number };
}

async function runMode(cluster: PaperCluster, client: HttpClient, mode: Mode, opts: ReturnType<typeof options>): Promise<ModeResult> {
  const route = ROUTES[mode];
  const fn = `replication-${mode}`;
  const wasm = await builtFunction('replication');
  const sites: NodeSite[] = ['edge1', 'edge2'];
  for (const node of sites) await cluster.deploy(node, fn, wasm, route.keygroup, { kvNode: kvNodeFor(route, node) });
  const writeUrl = `${await cluster.url(route.writer[route.writer.length - 1] as NodeSite, route.writer)}/fn/${fn}`;
  const readUrl = `${await cluster.url(route.reader[route.reader.length - 1] as NodeSite, route.reader)}/fn/${fn}`;
  const warm = { calls: 150, maxMs: 3000 };
  await Promise.all([warmUp(client, writeUrl, () => randomUUID().replace(/-/g, ''), warm), warmUp(client, readUrl, () => undefined, warm)]);
  await cluster.network.stats(true);

  // What the reader knows of the writer's progress: the current value and when each earlier
  // value was overwritten (the ack time of the next write). The original sent these through a
  // pipe the reader drained after each read; here they are shared directly.
  let current = '';
  const overwrittenAt = new Map<string, number>();
  const acked = (value: string, at: number) => {
    overwrittenAt.set(current, at);
    current = value;
  };

  const write: number[] = [];
  const read: number[] = [];
  const staleness: number[] = [];
  const strict: number[] = [];
  const errors = { write: 0, read: 0 };
  const until = performance.now() + opts.durationS * 1000;
  const writer = pacedLoop(opts.frequency, until, async () => {
    const value = randomUUID().replace(/-/g, '');
    const reply = await client.request(writeUrl, value).catch(() => undefined);
    // As the original, the reader learns of the write whatever its status.
    acked(value, reply?.end ?? performance.now());
    if (reply?.status === 200) write.push(reply.end - reply.start);
    else errors.write++;
  });
  const reader = (opts.phase === 'locked' ? pacedLoop : randomPhaseLoop)(opts.frequency, until, async () => {
    const reply = await client.request(readUrl).catch(() => undefined);
    if (reply?.status !== 200) {
      errors.read++;
      return;
    }
    read.push(reply.end - reply.start);
    const at = overwrittenAt.get(reply.body);
    // An unknown value is newer than any acknowledged write (or "No value yet"): not stale.
    const stale = reply.body !== current && at !== undefined;
    staleness.push(stale ? Math.max(0, reply.end - at) : 0);
    strict.push(stale && at < reply.start ? reply.end - at : 0);
  });
  await Promise.all([writer, reader]);
  for (const node of sites) await cluster.remove(node, fn).catch(() => undefined);
  return {
    mode,
    writerRoute: route.writer.join(' → '),
    readerRoute: route.reader.join(' → '),
    write: summarize(write),
    read: summarize(read),
    staleness: summarize(staleness),
    stalenessStrict: summarize(strict),
    staleReads: staleness.filter((s) => s > 0).length,
    staleReadsStrict: strict.filter((s) => s > 0).length,
    errors,
  };
}

/**
 * One call per period at a uniformly random point in it. The original's reader and writer both
 * slept out the rest of a 100 ms period from (nearly) the same start, so every read met the
 * writes at about the same phase, and the staleness measured depended on that phase: whether a
 * read ran just before or just after a write's replication arrived. `--phase locked` keeps that.
 */
async function randomPhaseLoop(frequency: number, until: number, fn: () => Promise<void>): Promise<void> {
  const period = 1000 / frequency;
  const start = performance.now();
  for (let k = 0; ; k++) {
    const at = start + (k + Math.random()) * period;
    if (at >= until) return;
    await sleep(at - performance.now());
    await fn();
  }
}

async function main(): Promise<void> {
  const opts = options();
  const nodes: NodeSite[] = opts.modes.includes('cloud') ? ['cloud', 'edge1', 'edge2'] : ['edge1', 'edge2'];
  process.stderr.write(`starting etcd, ${nodes.join(', ')} (async replication) with the emulated links…\n`);
  const cluster = await startPaperCluster({ nodes, replicationMode: 'async' });
  const client = new HttpClient();
  const results: ModeResult[] = [];
  const cost = await measureOn(cluster, client, 'edge2', async () => {
    for (const mode of opts.modes) {
      process.stderr.write(`${mode}: writer and reader at ${opts.frequency}/s each for ${opts.durationS} s…\n`);
      results.push(await runMode(cluster, client, mode, opts));
    }
  });

  const rows = [['mode', 'keygroup on', 'KV link RTT w / r', 'write p50 / p99', 'read p50 / p95 / p99', 'staleness p50 / p95 / p99', 'strict staleness p50 / p99', 'stale reads (strict)', 'errors w / r', 'paper read p50, staleness p50']];
  for (const r of results) {
    // What each call's one KV operation crosses: nothing with a local replica.
    const route = ROUTES[r.mode];
    const rtt = (node: NodeSite) => {
      const kvNode = kvNodeFor(route, node);
      return kvNode ? 2 * pathDelay([node, kvNode]) : 0;
    };
    const paper = r.mode === 'edge' ? `${PAPER.edge.readP50}, ${PAPER.edge.stalenessP50}` : '—';
    rows.push([
      r.mode,
      route.data.join(', '),
      `${rtt('edge1')} / ${rtt('edge2')}`,
      `${r.write.p50} / ${r.write.p99}`,
      `${r.read.p50} / ${r.read.p95} / ${r.read.p99}`,
      `${r.staleness.p50} / ${r.staleness.p95} / ${r.staleness.p99}`,
      `${r.stalenessStrict.p50} / ${r.stalenessStrict.p99}`,
      `${r.staleReads} (${r.staleReadsStrict}) of ${r.read.n}`,
      `${r.errors.write} / ${r.errors.read}`,
      paper,
    ]);
  }
  process.stdout.write('replication function, ms\n' + table(rows));
  await report('replication', { ...opts, replicationMode: 'async' }, { results, paper: PAPER }, cost, opts.out);
}

runMain(main);
