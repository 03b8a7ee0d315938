// The suite's charts, one SVG per scenario, drawn from the run's results.

import { barChart, lineChart } from '../svg.js';
import { COLD_FUNCTIONS } from './cold.js';
import { OPS } from './kv.js';
import type { SuiteResults } from './targets.js';

export function plots(r: SuiteResults, machineNote: string): Record<string, string> {
  const out: Record<string, string> = {};
  const note = (what: string) => `${what} ${machineNote}`;

  if (r.cold) {
    const c = r.cold;
    const names = COLD_FUNCTIONS.map((f) => f.name);
    out['cold-start.svg'] = barChart({
      title: 'Cold start: first request (p50)',
      yLabel: 'latency, ms',
      scale: 'log',
      categories: COLD_FUNCTIONS.map((f) => `${f.name} (${f.kind})`),
      series: [
        { name: 'first request after node restart', values: names.map((n) => c.afterRestart[n].p50) },
        { name: 'first request after restart, prewarmed', values: names.map((n) => c.afterRestartPrewarmed[n]?.p50) },
        { name: 'first request after deploy', values: names.map((n) => c.afterDeploy[n].p50) },
        { name: 'fresh instance per request, in-process', values: names.map((n) => c.naive[n]?.freshInstance.p50) },
      ],
      references: [{ label: 'empty node process start', value: c.emptyNodeStart.p50 }],
      note: note('Request latency seen by a client on the same machine; restart = new node process, first call compiles and instantiates.'),
    });
  }

  if (r.warm) {
    const w = r.warm;
    const labels = Object.keys(w.load);
    const connections = w.load[labels[0]].map((p) => String(p.connections));
    out['warm-throughput.svg'] = lineChart({
      title: 'Warm throughput under load (autocannon, closed loop)',
      xLabel: 'concurrent connections',
      yLabel: 'throughput, requests/s',
      x: connections,
      series: labels.map((l) => ({ name: l, values: w.load[l].map((p) => p.reqPerS) })),
      note: note('Client and server share the machine.'),
    });
    const seqLabels = Object.keys(w.sequential);
    out['warm-latency.svg'] = barChart({
      title: 'Warm sequential latency (one keep-alive connection)',
      yLabel: 'latency, ms',
      categories: seqLabels,
      series: [
        { name: 'p50', values: seqLabels.map((l) => w.sequential[l].p50) },
        { name: 'p95', values: seqLabels.map((l) => w.sequential[l].p95) },
      ],
      note: note('Requests interleaved across targets in 5 rounds.'),
    });
  }

  if (r.kv) {
    const k = r.kv;
    const labels = Object.keys(k.endToEnd).filter((l) => !/\d+ (×|no-ops)/.test(l));
    out['kv.svg'] = barChart({
      title: 'KV: warm request latency of JS guests',
      yLabel: 'latency, ms',
      categories: labels,
      series: [
        { name: 'p50', values: labels.map((l) => k.endToEnd[l].p50) },
        { name: 'p95', values: labels.map((l) => k.endToEnd[l].p95) },
      ],
      note: note(`In-function cost per operation (µs): ${OPS.map((op) => `${op} ${k.perOpUs[op]}`).join(', ')}.`),
    });
  }

  if (r.replication && r.replication.length > 0) {
    const runs = r.replication;
    out['replication.svg'] = barChart({
      title: 'Replication lag from acknowledgment on A to visibility on B',
      yLabel: 'time, ms',
      categories: runs.map((x) => `${x.mode}, ${x.method}`),
      series: [
        { name: 'lag p50', values: runs.map((x) => x.lag.p50) },
        { name: 'lag p95', values: runs.map((x) => x.lag.p95) },
        { name: 'lag p99', values: runs.map((x) => x.lag.p99) },
        { name: 'gRPC echo round trip p50', values: runs.map((x) => x.echo.p50) },
      ],
      note: note('Writes to node A at a steady rate; etcd and both nodes on loopback with mTLS.'),
    });
  }

  if (r.memory) {
    const m = r.memory;
    const categories = [
      'idle, no functions',
      `${m.tiny.functions} tiny deployed, none loaded`,
      `${m.tiny.functions} tiny, each called once`,
      `${m.js.functions} JS deployed, none loaded`,
      ...m.js.steps.map((s) => `${s.functions} JS called once`),
    ];
    const values = [m.tiny.idleMiB, m.tiny.deployedIdleMiB, m.tiny.deployedWarmMiB, m.js.deployedIdleMiB, ...m.js.steps.map((s) => s.rssMiB)];
    const e = r.examples;
    if (e) {
      categories.push(`npm start node, ${e.examples} examples warm`, ...e.steps.map((s) => `+ ${s.functions} JS functions`));
      values.push(e.examplesIdleMiB, ...e.steps.map((s) => s.rssMiB));
    }
    out['memory.svg'] = barChart({
      title: 'Node memory (resident set size)',
      yLabel: 'RSS, MiB',
      categories,
      series: [{ name: 'RSS', values }],
      references: [
        { label: 'target for 10 tiny functions (80 MB), MiB', value: 80e6 / 2 ** 20 },
        ...(e ? [{ label: 'target for the npm start node + 20 JS functions, MiB', value: 512 }] : []),
      ],
      note: note(`Per function: tiny ${m.tiny.perWarmInstanceMiB} MiB; first JS function (engine compiled) ${m.js.firstFunctionMiB} MiB, each further distinct JS function ${m.js.perFurtherFunctionMiB} MiB.`),
    });
  }
  return out;
}
