// The paper's application experiment (experiment-befaas.py, run-befaas.sh, load-befaas.py,
// sortlogs-befaas.py and graphs-befaas.py of OpenFogStack/enoki): the BeFaaS IoT traffic
// application, 8 functions calling each other, 5 at the edge and 3 in the cloud, under the load
// generator's mix of sensor readings and camera images.
//
// Placement (run-befaas.sh): emergencydetection, movementplan, objectrecognition,
// trafficsensorfilter and weathersensorfilter at the edge (edge1); roadcondition,
// lightphasecalculation and trafficstatistics in the cloud. Calls (sync unless marked):
//   trafficsensorfilter → movementplan → lightphasecalculation (async)
//   weathersensorfilter → roadcondition (async) → lightphasecalculation
//   objectrecognition → trafficstatistics (async), emergencydetection → lightphasecalculation
//                       (async), movementplan → lightphasecalculation (async)
// A call from edge1 to a cloud function is forwarded over the edge ↔ cloud link (25 ms one-way)
// by the node's function routes; the client reaches edge1 over 1 ms.
//
// Modes:
//   edge   movementplan (the only edge function with state) keeps its data at the edge.
//   cloud  as the paper: the edge functions use the cloud's replica, so movementplan (deployed at
//          edge1 with kvNode=cloud) pays the 50 ms round trip for each of its two KV operations.
//
// Reported, as sortlogs-befaas.py and graphs-befaas.py computed them: each function's execution
// time (start to end inside the function, including the calls it waits for), measured here by
// the nodes (their invocation logs); and the client's end-to-end time per entry function.
//
//   node dist/bench/paper/befaas.js [--duration 20] [--repeats 1] [--workers 10] [--node-workers 8]
//                                   [--modes edge,cloud] [--intended-images] [--full] [--out FILE]
import { parseArgs } from 'node:util';
import { summarize, type Summary } from '../stats.js';
import { ENTRY_FUNCTIONS, befaasBody, runBefaasLoad, type EntryFunction, type Sent } from './befaas-load.js';
import { builtFunction, startPaperCluster, type NodeSite, type PaperCluster } from './cluster.js';
import { measureOn, report, parseModes, positive } from './experiment.js';
import { HttpClient, runMain, table } from './load.js';

const EDGE_FUNCTIONS = ['emergencydetection', 'movementplan', 'objectrecognition', 'trafficsensorfilter', 'weathersensorfilter'];
const CLOUD_FUNCTIONS = ['roadcondition', 'lightphasecalculation', 'trafficstatistics'];
const FUNCTIONS = [...EDGE_FUNCTIONS, ...CLOUD_FUNCTIONS];
const MODES = ['edge', 'cloud'] as const;
type Mode = (typeof MODES)[number];

/**
 * The paper's numbers for this experiment: there are none to compare. Its results.csv holds the
 * movingaverage runs only; for BeFaaS it published CDF plots (graphs/befaas-*.pdf: execution
 * time of the three entry functions, edge vs cloud, repeat 2 of 3 × 10 min).
 */
const PAPER = 'no numbers published: results.csv has only movingaverage; graphs/befaas-*.pdf are CDF plots';

function options() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      repeats: { type: 'string' },
      workers: { type: 'string', default: '10' },
      'node-workers': { type: 'string', default: '8' },
      modes: { type: 'string', default: MODES.join(',') },
      'intended-images': { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  const modes = parseModes(values.modes, MODES);
  return {
    // Quick: 20 s a mode (~650 requests); --full: the paper's 3 repeats of 10 minutes.
    durationS: positive(values.duration ?? (values.full ? '600' : '20'), 'duration'),
    repeats: positive(values.repeats ?? (values.full ? '3' : '1'), 'repeats'),
    workers: positive(values.workers, 'workers'),
    nodeWorkers: positive(values['node-workers'], 'node-workers'),
    intendedImages: values['intended-images'],
    modes,
    out: values.out,
  };
}
type Options = ReturnType<typeof options>;

/** Where each function runs in a mode. */
function placement(): Record<string, NodeSite> {
  const at: Record<string, NodeSite> = {};
  for (const fn of EDGE_FUNCTIONS) at[fn] = 'edge1';
  for (const fn of CLOUD_FUNCTIONS) at[fn] = 'cloud';
  return at;
}

interface ModeResult {
  mode: Mode;
  repeat: number;
  placement: Record<string, NodeSite>;
  /** Client end-to-end time per entry function, and per input variant. */
  client: Record<string, Summary & { errors: number; statuses: Record<string, number> }>;
  /** Execution time inside the node per function (all its invocations in the window). */
  functions: Record<string, Summary & { errors: number }>;
  requests: number;
  ratePerS: number;
}

/**
 * Collects the nodes' invocation records while the load runs: a node keeps the last 200 per
 * function, fewer than a run makes, so they are read every 2 s and merged by invocation id.
 */
function collectInvocations(cluster: PaperCluster, at: Record<string, NodeSite>) {
  const seen = new Map<string, Map<string, { at: string; durationMs: number; status: number }>>();
  for (const fn of FUNCTIONS) seen.set(fn, new Map());
  const poll = async () => {
    for (const fn of FUNCTIONS) {
      for (const e of await cluster.invocationLogs(at[fn], fn)) seen.get(fn)!.set(e.invocationId, e);
    }
  };
  let polling = Promise.resolve();
  const timer = setInterval(() => (polling = polling.then(poll).catch(() => undefined)), 2000);
  return {
    async stop(from: number, to: number) {
      clearInterval(timer);
      await polling;
      await poll();
      const out: Record<string, Array<{ durationMs: number; status: number }>> = {};
      for (const [fn, entries] of seen) {
        out[fn] = [...entries.values()].filter((e) => Date.parse(e.at) >= from && Date.parse(e.at) <= to);
      }
      return out;
    },
  };
}

async function deployMode(cluster: PaperCluster, mode: Mode, repeat: number): Promise<Record<string, NodeSite>> {
  const at = placement();
  for (const fn of FUNCTIONS) {
    // A keygroup per function (as tinyFaaS's dockerkv made one per function), fresh per run. In
    // the cloud mode the edge's functions keep it on the cloud node (the paper's DOCKERKV_HOST).
    const kvNode: NodeSite | undefined = mode === 'cloud' && at[fn] !== 'cloud' ? 'cloud' : undefined;
    await cluster.deploy(at[fn], fn, await builtFunction(fn), `${fn}${mode}${repeat}`, kvNode ? { kvNode } : undefined);
  }
  return at;
}

async function runMode(cluster: PaperCluster, client: HttpClient, mode: Mode, repeat: number, opts: Options): Promise<ModeResult> {
  const at = await deployMode(cluster, mode, repeat);
  const base = await cluster.url('edge1');
  const urls = Object.fromEntries(ENTRY_FUNCTIONS.map((fn) => [fn, `${base}/fn/${fn}`])) as Record<EntryFunction, string>;

  // Warm-up, not measured: every function's instances, the connections, V8's tier-up. Camera
  // images first: the first emergency ends lightphasecalculation's waiting (functions/README.md).
  for (let i = 0; i < 3; i++) await client.request(urls.objectrecognition, befaasBody('objectrecognition'));
  await runBefaasLoad(client, { durationS: 5, workers: opts.workers, intendedImages: opts.intendedImages, urls });
  await cluster.network.stats(true);

  const collector = collectInvocations(cluster, at);
  const from = Date.now();
  const began = performance.now();
  const sent = await runBefaasLoad(client, { durationS: opts.durationS, workers: opts.workers, intendedImages: opts.intendedImages, urls });
  const elapsedS = (performance.now() - began) / 1000;
  // Asynchronous calls finish after the client's last answer (the original waited 30 s).
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const invocations = await collector.stop(from, Date.now());

  const client_: ModeResult['client'] = {};
  const group = (key: string, xs: Sent[]) => {
    const statuses: Record<string, number> = {};
    for (const s of xs) statuses[String(s.status)] = (statuses[String(s.status)] ?? 0) + 1;
    const ok = xs.filter((s) => s.status === 200).map((s) => s.end - s.start);
    client_[key] = { ...summarize(ok), errors: xs.length - ok.length, statuses };
  };
  for (const fn of ENTRY_FUNCTIONS) {
    const mine = sent.filter((s) => s.fn === fn);
    group(fn, mine);
    for (const variant of [...new Set(mine.map((s) => s.variant))].sort()) group(`${fn} (${variant})`, mine.filter((s) => s.variant === variant));
  }
  const functions: ModeResult['functions'] = {};
  for (const fn of FUNCTIONS) {
    const ok = invocations[fn].filter((e) => e.status === 200).map((e) => e.durationMs);
    functions[fn] = { ...summarize(ok), errors: invocations[fn].length - ok.length };
  }
  for (const fn of FUNCTIONS) await cluster.remove(at[fn], fn);
  return { mode, repeat, placement: at, client: client_, functions, requests: sent.length, ratePerS: Math.round((sent.length / elapsedS) * 10) / 10 };
}

const fmt = (s: Summary) => (s.n === 0 ? '— (none)' : `${s.p50} / ${s.p95} / ${s.p99}`);

function printTables(results: ModeResult[]): void {
  const modes = results.map((r) => `${r.mode}${results.some((o) => o.mode === r.mode && o.repeat !== r.repeat) ? ` #${r.repeat}` : ''}`);
  const fnRows = [['function', 'runs at', ...modes.map((m) => `${m}: n, p50 / p95 / p99`), 'paper']];
  for (const fn of FUNCTIONS) {
    const where = placement()[fn];
    fnRows.push([fn, where, ...results.map((r) => `${r.functions[fn].n}${r.functions[fn].errors ? ` (${r.functions[fn].errors} failed)` : ''}, ${fmt(r.functions[fn])}`), '— (CDF plots only)']);
  }
  process.stdout.write('execution time inside the node per function (sortlogs-befaas.py "total"), ms\n' + table(fnRows));
  const keys = Object.keys(results[0]?.client ?? {});
  const clientRows = [['entry function (input)', ...modes.map((m) => `${m}: n, p50 / p95 / p99`)]];
  for (const key of keys) {
    clientRows.push([key, ...results.map((r) => `${r.client[key]?.n ?? 0}${r.client[key]?.errors ? ` (${r.client[key].errors} failed)` : ''}, ${r.client[key] ? fmt(r.client[key]) : '—'}`)]);
  }
  process.stdout.write('end to end at the client (via the 1 ms link to edge1), ms\n' + table(clientRows));
  process.stdout.write(results.map((r) => `${r.mode} #${r.repeat}: ${r.requests} requests, ${r.ratePerS}/s`).join('; ') + '\n');
}

async function main(): Promise<void> {
  const opts = options();
  process.stderr.write('starting etcd, cloud and edge1 with the emulated links…\n');
  const cluster = await startPaperCluster({
    nodes: ['cloud', 'edge1'],
    // tinyFaaS gave each function containers of its own; here the functions share a node's
    // workers, and a worker waits while its guest waits for a callee (50 ms for one in the
    // cloud), so the default of one worker per core would cap the load at ~14 requests/s.
    env: { ENOKI_WORKERS: String(opts.nodeWorkers) },
    // edge1 forwards calls of the functions it does not run to the cloud, over the 25 ms link.
    nodeEnv: async (site, link) => {
      if (site !== 'edge1') return {};
      const cloud = await link('cloud');
      return { ENOKI_FUNCTION_ROUTES: CLOUD_FUNCTIONS.map((fn) => `${fn}=${cloud}`).join(',') };
    },
  });
  const client = new HttpClient();
  const results: ModeResult[] = [];
  const cost = await measureOn(cluster, client, 'edge1', async () => {
    for (let repeat = 1; repeat <= opts.repeats; repeat++) {
      for (const mode of opts.modes) {
        process.stderr.write(`${mode} #${repeat}: ${opts.workers} workers for ${opts.durationS} s…\n`);
        results.push(await runMode(cluster, client, mode, repeat, opts));
      }
    }
  });

  printTables(results);
  await report('befaas', opts, { results, paper: PAPER }, cost, opts.out);
}

runMain(main);
