// Replication lag between two cluster nodes, next to plain gRPC round trips over the same mTLS
// setup, measured in one run. etcd (TLS) and nodes A and B run as separate processes on loopback;
// this process is the FReD client. For each replication mode (async, sync) a keygroup is created
// on A with B as a second replica, then writes are sent to A's client API (Update) at a steady
// rate (open loop: each at its scheduled time, whether or not earlier ones were acknowledged), and
// for each write the time until B has it is taken, by one of two methods:
//
// - trigger: B has a FReD trigger pointing at a TriggerNode server in this process; B calls it
//   right after merging a replicated write. Visible = the call's arrival here, so it includes one
//   B → bench gRPC hop (about half an echo round trip) and no polling load on B.
// - poll: this process reads the oldest not-yet-seen item on B (Read), again as soon as an answer
//   says it is missing. Visible = arrival of the first answer that has it, so it includes up to a
//   Read round trip of detection delay, and B serves a steady stream of Reads meanwhile.
//
// Lag = visible − ack of the Update at the client, counted as 0 when B already had the write
// (in sync mode A acknowledges only after B answered); write→visible = visible − send. Baselines,
// same certificates and setup, each call sequential: an echo service on its own thread (a gRPC
// unary call with no work: the transport), a Read of a small item on B (the client API path the
// ratios divide by), and an Update on A one at a time (the write path without load).
//
//   node dist/bench/replication.js [--writes 500] [--rate 100] [--rtt 1000] [--modes async,sync]
//                                  [--methods trigger,poll] [--out bench/results/replication.json]

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runCertsCommand } from '../replication/security/certs-cli.js';
import { findOrInstallEtcd, freePorts, startLocalEtcd, type LocalEtcd } from '../runtime/cluster/local-etcd.js';
import { spawnNode, type NodeProcess } from '../runtime/cli/node-process.js';
import { BENCH_SERVER, KEYGROUP, USER, fredClient, poller, startEcho, startTriggerServer, type Call } from './replication-clients.js';
import { machine, summarize, type Summary } from './stats.js';

type Mode = 'async' | 'sync';
type Method = 'trigger' | 'poll';

interface Options {
  writes: number;
  rate: number;
  rttSamples: number;
  modes: Mode[];
  methods: Method[];
  out?: string;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      writes: { type: 'string', default: '500' },
      rate: { type: 'string', default: '100' },
      rtt: { type: 'string', default: '1000' },
      modes: { type: 'string', default: 'async,sync' },
      methods: { type: 'string', default: 'trigger,poll' },
      out: { type: 'string' },
    },
  });
  const list = <T extends string>(raw: string, allowed: readonly T[], name: string): T[] => {
    const items = raw.split(',').filter(Boolean);
    for (const item of items) if (!allowed.includes(item as T)) throw new Error(`--${name}: ${item} is not one of ${allowed.join(', ')}`);
    return items as T[];
  };
  const positive = (raw: string, name: string) => {
    const n = Number(raw);
    if (!(n > 0)) throw new Error(`--${name} must be a positive number, got ${raw}`);
    return n;
  };
  return {
    writes: positive(values.writes, 'writes'),
    rate: positive(values.rate, 'rate'),
    rttSamples: positive(values.rtt, 'rtt'),
    modes: list(values.modes, ['async', 'sync'] as const, 'modes'),
    methods: list(values.methods, ['trigger', 'poll'] as const, 'methods'),
    out: values.out,
  };
}

async function timeSequential(n: number, call: () => Promise<unknown>): Promise<Summary> {
  for (let i = 0; i < Math.min(200, n); i++) await call(); // warm up: connections, JIT
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call();
    samples.push(performance.now() - t);
  }
  return summarize(samples);
}

// ---- one measured write phase ---------------------------------------------------------------------

interface WritePhase {
  ack: Summary;
  lag: Summary;
  writeToVisible: Summary;
  visibleAtAck: number;
  missing: number;
  /** Writes sent more than 5 ms after their scheduled time (the client could not keep the rate). */
  lateSends: number;
}

async function writePhase(
  options: Options,
  prefix: string,
  a: { call: Call },
  visible: { seen(id: string): number | undefined; start?(sent: (i: number) => boolean): Promise<void>; stop?(): void },
): Promise<WritePhase> {
  const sentAt: number[] = [];
  const ackAt: number[] = [];
  const interval = 1000 / options.rate;
  let lateSends = 0;
  const polling = visible.start?.((i) => sentAt[i] !== undefined);
  const start = performance.now() + 20;
  const acks: Promise<void>[] = [];
  for (let i = 0; i < options.writes; i++) {
    const due = start + i * interval;
    // No spinning for the last fraction of a millisecond: it would delay the trigger calls
    // this process times on the same event loop.
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (performance.now() - due > 5) lateSends++;
    sentAt[i] = performance.now();
    acks.push(
      a.call('Update', { keygroup: KEYGROUP, id: `${prefix}${i}`, data: String(i), versions: [] }).then(() => {
        ackAt[i] = performance.now();
      }),
    );
  }
  await Promise.all(acks);
  // Everything acknowledged; give stragglers up to 10 s to arrive at B.
  const deadline = performance.now() + 10_000;
  const allSeen = () => sentAt.every((_, i) => visible.seen(`${prefix}${i}`) !== undefined);
  while (!allSeen() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  visible.stop?.();
  await polling;

  const lag: number[] = [];
  const writeToVisible: number[] = [];
  let visibleAtAck = 0;
  let missing = 0;
  sentAt.forEach((sent, i) => {
    const seen = visible.seen(`${prefix}${i}`);
    if (seen === undefined) {
      missing++;
      return;
    }
    if (seen <= ackAt[i]) visibleAtAck++;
    lag.push(Math.max(0, seen - ackAt[i]));
    writeToVisible.push(seen - sent);
  });
  return {
    ack: summarize(sentAt.map((s, i) => ackAt[i] - s)),
    lag: summarize(lag),
    writeToVisible: summarize(writeToVisible),
    visibleAtAck: Math.round((visibleAtAck / sentAt.length) * 1000) / 10,
    missing,
    lateSends,
  };
}

// ---- a scenario: one replication mode -------------------------------------------------------------

interface Scenario {
  mode: Mode;
  rtt: { echo: Summary; readB: Summary; updateA: Summary };
  methods: Partial<Record<Method, WritePhase>>;
}

async function scenario(options: Options, mode: Mode, dir: string, certs: string, etcdBinary: string): Promise<Scenario> {
  const work = path.join(dir, mode);
  await fs.mkdir(work, { recursive: true });
  const cleanup: Array<() => Promise<void> | void> = [];
  try {
    const etcd: LocalEtcd = await startLocalEtcd({
      binary: etcdBinary,
      tls: { certFile: path.join(certs, 'etcd.pem'), keyFile: path.join(certs, 'etcd-key.pem'), caFile: path.join(certs, 'ca.pem') },
    });
    cleanup.push(() => etcd.stop());
    const nodes: Record<'nodeA' | 'nodeB', NodeProcess> = {} as never;
    for (const id of ['nodeA', 'nodeB'] as const) {
      const [clientApi, peering] = await freePorts(2);
      const node = await spawnNode({
        name: id,
        args: ['--port', '0', '--data-dir', path.join(work, id)],
        env: {
          PATH: process.env.PATH,
          ENOKI_HOST: '127.0.0.1',
          ENOKI_LOG_LEVEL: 'warn',
          ENOKI_ADMIN_TOKEN: 'bench',
          ENOKI_NODE_ID: id,
          ENOKI_ETCD: etcd.endpoint,
          ENOKI_CERTS_DIR: certs,
          ENOKI_CLIENT_API_PORT: String(clientApi),
          ENOKI_PEERING_PORT: String(peering),
          ENOKI_ADVERTISE_HOST: '127.0.0.1',
          ENOKI_REPLICATION_MODE: mode,
        },
        logFile: path.join(work, `${id}.log`),
      });
      cleanup.unshift(() => node.stop());
      nodes[id] = node;
    }
    const a = await fredClient(nodes.nodeA.clientApi!, certs, 'nodeA');
    const b = await fredClient(nodes.nodeB.clientApi!, certs, 'nodeB');
    cleanup.unshift(() => a.close(), () => b.close());
    await a.call('CreateKeygroup', { keygroup: KEYGROUP, mutable: true, expiry: 0 });
    // Called on B itself: it returns once B holds its copy.
    await b.call('AddReplica', { keygroup: KEYGROUP, nodeId: 'nodeB', expiry: 0 });
    await a.call('Update', { keygroup: KEYGROUP, id: 'probe', data: 'x', versions: [] });
    const echo = await startEcho(certs);
    cleanup.unshift(() => echo.close());
    const payload = Buffer.alloc(24, 1); // about a Read request's size
    while (!(await b.call('Read', { keygroup: KEYGROUP, id: 'probe', versions: [] }).catch(() => false)));
    let sequential = 0;
    const rtt = {
      echo: await timeSequential(options.rttSamples, () => echo.echo(payload)),
      readB: await timeSequential(options.rttSamples, () => b.call('Read', { keygroup: KEYGROUP, id: 'probe', versions: [] })),
      // One write at a time: the acknowledgment's cost without load (in sync mode it includes B's answer).
      updateA: await timeSequential(options.rttSamples, () =>
        a.call('Update', { keygroup: KEYGROUP, id: 'sequential', data: String(++sequential), versions: [] }),
      ),
    };
    // The measured phases start with nothing of the baseline still on its way to B.
    const lastOnB = async () => {
      const res = await b.call('Read', { keygroup: KEYGROUP, id: 'sequential', versions: [] }).catch(() => undefined);
      return (res?.data as Array<{ val: string }> | undefined)?.[0]?.val;
    };
    while ((await lastOnB()) !== String(sequential)) await new Promise((r) => setTimeout(r, 10));

    const result: Scenario = { mode, rtt, methods: {} };
    for (const method of options.methods) {
      process.stderr.write(`${mode}: ${options.writes} writes at ${options.rate}/s, lag by ${method}…\n`);
      const prefix = method === 'trigger' ? 't' : 'p';
      if (method === 'trigger') {
        const triggers = await startTriggerServer(certs);
        await b.call('AddTrigger', { keygroup: KEYGROUP, triggerId: 'bench', triggerHost: triggers.address });
        result.methods.trigger = await writePhase(options, prefix, a, { seen: (id) => triggers.arrivals.get(id) });
        await b.call('RemoveTrigger', { keygroup: KEYGROUP, triggerId: 'bench' });
        triggers.close();
      } else {
        result.methods.poll = await writePhase(options, prefix, a, poller(b, prefix, options.writes));
      }
    }
    return result;
  } finally {
    for (const step of cleanup) await step();
  }
}

// ---- report ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions();
  const etcdBinary = findOrInstallEtcd({ env: process.env, install: true });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-bench-replication-'));
  const certs = path.join(dir, 'certs');
  const hosts = ['127.0.0.1'];
  await runCertsCommand({
    dir: certs,
    nodes: ['etcd', 'nodeA', 'nodeB', BENCH_SERVER].map((id) => ({ id, hosts })),
    clients: [USER],
  });
  const scenarios: Scenario[] = [];
  try {
    for (const mode of options.modes) scenarios.push(await scenario(options, mode, dir, certs, etcdBinary));
  } catch (err) {
    process.stderr.write(`node logs kept in ${dir}\n`);
    throw err;
  }
  await fs.rm(dir, { recursive: true, force: true });

  const ratio = (x: number, y: number) => Math.round((x / y) * 100) / 100;
  const rows = [
    ['mode', 'method', 'echo rtt p50/p99', 'Read on B p50/p99', 'Update seq. p50/p99', 'Update ack p50/p99', 'lag p50/p95/p99', 'visible at ack', 'write→visible p50/p99', 'lag p50 / Read p50', 'lag p99 / Read p99'],
  ];
  const summaries = scenarios.flatMap((s) =>
    Object.entries(s.methods).map(([method, w]) => {
      const ratios = { lagP50OverRttP50: ratio(w.lag.p50, s.rtt.readB.p50), lagP99OverRttP99: ratio(w.lag.p99, s.rtt.readB.p99) };
      rows.push([
        s.mode,
        method,
        `${s.rtt.echo.p50} / ${s.rtt.echo.p99}`,
        `${s.rtt.readB.p50} / ${s.rtt.readB.p99}`,
        `${s.rtt.updateA.p50} / ${s.rtt.updateA.p99}`,
        `${w.ack.p50} / ${w.ack.p99}`,
        `${w.lag.p50} / ${w.lag.p95} / ${w.lag.p99}`,
        `${w.visibleAtAck}%`,
        `${w.writeToVisible.p50} / ${w.writeToVisible.p99}`,
        String(ratios.lagP50OverRttP50),
        String(ratios.lagP99OverRttP99),
      ]);
      if (w.missing > 0 || w.lateSends > 0) {
        process.stderr.write(`${s.mode}/${method}: ${w.missing} write(s) never seen on B within 10 s, ${w.lateSends} sent > 5 ms late\n`);
      }
      return { mode: s.mode, method, ...ratios };
    }),
  );
  const report = {
    machine: machine(),
    settings: { writes: options.writes, rate: options.rate, rttSamples: options.rttSamples, unit: 'ms' },
    scenarios,
    ratios: summaries,
  };
  process.stdout.write('times in ms\n' + rows.map((r) => '| ' + r.join(' | ') + ' |').join('\n') + '\n');
  process.stdout.write(JSON.stringify(report.machine) + '\n');
  if (options.out) {
    await fs.mkdir(path.dirname(options.out), { recursive: true });
    await fs.writeFile(options.out, JSON.stringify(report, null, 2));
  }
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
});
