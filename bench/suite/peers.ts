// Scenario 6, side by side with the peers: the same wasi:http components (a hello and a KV counter,
// each in JS as `jco componentize` builds it and in WAT) served by Enoki, by `jco serve` and by
// `wasmtime serve`, in the same run. Per host and component, on a fresh process: the first request
// after the start, sequential p50 over one keep-alive connection, warm throughput and p50 under
// load at 1/10/50 connections (autocannon), and the resident memory of the host's processes with
// the component warm. Enoki should be ahead of jco serve on every figure; its ratios to wasmtime
// serve are reported with where the difference goes (the node's HTTP stack, measured by its bare
// route, and the CPU a fresh instance costs, made ahead of the request by the engine that runs it).

import autocannon from 'autocannon';
import path from 'node:path';
import { summarize } from '../stats.js';
import { HttpClient, MiB, ROOT, runScript, sleep } from './harness.js';
import { enokiHost, jcoHost, treeRssBytes, wasmtimeHost, type PeerHost } from './peer-hosts.js';

export interface PeersSettings {
  sequential: number;
  durationS: number;
  connections: number[];
}

export interface PeerLoad {
  connections: number;
  reqPerS: number;
  p50: number;
  p99: number;
  errors: number;
}

export interface PeerFigures {
  firstRequestMs?: number;
  sequentialP50?: number;
  load: PeerLoad[];
  rssMiB?: number;
  /** Why this host did not serve this component. */
  error?: string;
}

export interface PeersResult {
  hosts: { name: string; how: string; skipped?: string }[];
  components: string[];
  figures: Record<string, Record<string, PeerFigures>>;
  /** Enoki's own costs, for where a difference goes. */
  enoki: { bareRouteP50: number; instantiateCpuMs: Record<string, number>; engines?: Record<string, 'inline' | 'worker'> };
  /** Enoki ÷ peer, per component and figure (throughput: higher is better; the rest: lower). */
  ratios: Record<string, Record<string, Record<string, number>>>;
  /** Enoki ahead of jco serve (or tied, for autocannon's whole-ms p50s) on every figure of every component both served; false when Enoki failed one jco served. */
  aheadOfJco?: boolean;
}

const WORLDS = path.join(ROOT, 'functions', 'build', 'worlds');
export const PEER_COMPONENTS: { label: string; file: string; kv: boolean }[] = [
  { label: 'hello (JS)', file: 'hello.wasm', kv: false },
  { label: 'KV counter (JS)', file: 'kv-counter.wasm', kv: true },
  { label: 'hello (WAT)', file: 'hello-wat.wasm', kv: false },
  { label: 'KV counter (WAT)', file: 'kv-counter-wat.wasm', kv: true },
];

async function measure(host: PeerHost, file: string, kv: boolean, s: PeersSettings): Promise<PeerFigures> {
  await host.prepare(file, kv);
  const running = await host.start(file, kv);
  const client = new HttpClient(running.base);
  try {
    const samples: number[] = [];
    for (let i = 0; i < 20; i++) await client.timed(running.route);
    for (let i = 0; i < s.sequential; i++) samples.push(await client.timed(running.route));
    // Its connection would sit idle through the load runs, past a server's keep-alive timeout,
    // whose close a loaded server may send just as the next request goes out: a new one after.
    client.close();
    const load: PeerLoad[] = [];
    for (const connections of s.connections) {
      const r = await autocannon({ url: running.base + running.route, connections, duration: s.durationS });
      load.push({ connections, reqPerS: Math.round(r.requests.total / r.duration), p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx });
    }
    // A few requests more, then quiet: the component is warm and the load's garbage collected.
    const after = new HttpClient(running.base);
    try {
      for (let i = 0; i < 5; i++) await after.timed(running.route);
    } finally {
      after.close();
    }
    await sleep(1500);
    return { firstRequestMs: round(running.firstMs), sequentialP50: summarize(samples).p50, load, rssMiB: MiB(treeRssBytes(running.pid)) };
  } catch (err) {
    await sleep(200); // an exit is noticed a moment after the connection broke
    const ended = running.ended?.();
    throw ended ? new Error(`${(err as Error).message} (the host ${ended})`, { cause: err }) : err;
  } finally {
    client.close();
    await running.stop();
  }
}

const round = (x: number, d = 2) => Number(x.toFixed(d));

/** Throughput ratios use each host's peak; latency ratios the p50 at each connection count. */
function ratiosOf(a: PeerFigures, b: PeerFigures): Record<string, number> {
  const out: Record<string, number> = {};
  if (a.firstRequestMs && b.firstRequestMs) out['first request'] = round(a.firstRequestMs / b.firstRequestMs);
  if (a.sequentialP50 && b.sequentialP50) out['sequential p50'] = round(a.sequentialP50 / b.sequentialP50);
  for (const p of a.load) {
    const q = b.load.find((x) => x.connections === p.connections);
    if (!q) continue;
    if (q.reqPerS > 0) out[`req/s @${p.connections}`] = round(p.reqPerS / q.reqPerS);
    if (q.p50 > 0) out[`p50 @${p.connections}`] = round(p.p50 / q.p50);
  }
  if (a.rssMiB && b.rssMiB) out.RSS = round(a.rssMiB / b.rssMiB);
  return out;
}

/**
 * Whether Enoki is not behind on a figure: more requests per second, less of everything else.
 * autocannon reports latencies in whole milliseconds, so equal p50s under load are a tie.
 */
const ahead = (figure: string, ratio: number) => (figure.startsWith('req/s') ? ratio > 1 : figure.startsWith('p50 @') ? ratio <= 1 : ratio < 1);

export async function peersScenario(s: PeersSettings, makeHosts: () => Promise<PeerHost[]> = async () => [await enokiHost(), await jcoHost(), await wasmtimeHost()]): Promise<PeersResult> {
  const hosts = await makeHosts();
  const figures: PeersResult['figures'] = {};
  try {
    for (const host of hosts) {
      figures[host.name] = {};
      if (host.skipped) {
        process.stderr.write(`  ${host.name}: skipped (${host.skipped})\n`);
        continue;
      }
      for (const c of PEER_COMPONENTS) {
        process.stderr.write(`  ${host.name}: ${c.label}\n`);
        try {
          figures[host.name][c.label] = await measure(host, path.join(WORLDS, c.file), c.kv, s);
        } catch (err) {
          figures[host.name][c.label] = { load: [], error: (err as Error).message.slice(0, 500) };
          process.stderr.write(`    failed: ${(err as Error).message.split('\n')[0]}\n`);
        }
      }
    }
  } finally {
    for (const host of hosts) await host.dispose();
  }
  const enoki = figures.Enoki;
  const ratios: PeersResult['ratios'] = {};
  let aheadOfJco: boolean | undefined;
  for (const peer of ['jco serve', 'wasmtime serve']) {
    ratios[peer] = {};
    for (const c of PEER_COMPONENTS) {
      const a = enoki?.[c.label];
      const b = figures[peer]?.[c.label];
      // A component Enoki failed to serve is one it is not ahead on.
      if (peer === 'jco serve' && a?.error && b && !b.error) aheadOfJco = false;
      if (!a || !b || a.error || b.error) continue;
      ratios[peer][c.label] = ratiosOf(a, b);
      if (peer === 'jco serve') {
        const all = Object.entries(ratios[peer][c.label]).every(([figure, ratio]) => ahead(figure, ratio));
        aheadOfJco = (aheadOfJco ?? true) && all;
      }
    }
  }
  // Measured apart; its failure leaves the figures above standing.
  const breakdown = await runScript<PeersResult['enoki']>('./peers-costs.js', PEER_COMPONENTS.map((c) => path.join(WORLDS, c.file))).catch(
    (err: Error): PeersResult['enoki'] => {
      process.stderr.write(`  Enoki's own costs not measured: ${err.message.split('\n').slice(0, 3).join(' ')}\n`);
      return { bareRouteP50: NaN, instantiateCpuMs: {} };
    },
  );
  return {
    hosts: hosts.map((h) => ({ name: h.name, how: h.how, ...(h.skipped && { skipped: h.skipped }) })),
    components: PEER_COMPONENTS.map((c) => c.label),
    figures,
    enoki: breakdown,
    ratios,
    aheadOfJco,
  };
}

export function peersTables(r: PeersResult): string[][][] {
  const connections = [...new Set(Object.values(r.figures).flatMap((byC) => Object.values(byC).flatMap((f) => f.load.map((p) => p.connections))))];
  const head = ['component', 'host', 'first request ms', 'sequential p50 ms', ...connections.map((c) => `req/s @${c}`), ...connections.map((c) => `p50 ms @${c}`), 'RSS MiB'];
  const rows = [head];
  for (const c of r.components) {
    for (const h of r.hosts) {
      const f = r.figures[h.name]?.[c];
      if (h.skipped || !f) {
        rows.push([c, h.name, `skipped: ${h.skipped ?? 'not run'}`, ...head.slice(3).map(() => '')]);
        continue;
      }
      if (f.error) {
        rows.push([c, h.name, `failed: ${f.error.split('\n')[0].slice(0, 120)}`, ...head.slice(3).map(() => '')]);
        continue;
      }
      const at = (n: number) => f.load.find((p) => p.connections === n);
      const errors = f.load.reduce((n, p) => n + p.errors, 0);
      rows.push([
        c,
        h.name + (errors > 0 ? ` (${errors} errors)` : ''),
        String(f.firstRequestMs),
        String(f.sequentialP50),
        ...connections.map((n) => String(at(n)?.reqPerS ?? '')),
        ...connections.map((n) => String(at(n)?.p50 ?? '')),
        String(f.rssMiB),
      ]);
    }
  }
  const ratioRows = [['Enoki ÷ peer', 'component', 'figures (req/s: > 1 is Enoki ahead; the rest: < 1 is Enoki ahead)']];
  for (const [peer, byC] of Object.entries(r.ratios)) {
    for (const [c, figures] of Object.entries(byC)) {
      ratioRows.push([peer, c, Object.entries(figures).map(([k, v]) => `${k} ${v}${ahead(k, v) ? '' : ' ✗'}`).join(', ')]);
    }
  }
  const costs = [['where Enoki’s time goes', 'value']];
  costs.push(['bare route p50 (the node’s HTTP stack, no guest), ms', String(r.enoki.bareRouteP50)]);
  for (const [c, ms] of Object.entries(r.enoki.instantiateCpuMs)) {
    const where = r.enoki.engines?.[c] === 'inline' ? 'on the event loop, after the previous answer' : 'in a worker';
    costs.push([`CPU per fresh instance of ${c} (made ahead, ${where}), ms`, String(ms)]);
  }
  return [rows, ratioRows, costs];
}
