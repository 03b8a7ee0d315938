// Runs FReD's own end-to-end suite (tests/3NodeTest, built as `3nodetest`) against a cluster of
// three nodes in a given order of Enoki (e) and FReD (f) nodes, and reports its error count per
// suite. The suite waits 15 s before it starts and takes about a minute on its own.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { FredBinaries } from './fred-binaries.js';
import { MixedCluster, type CertificateFormat } from './mixed-cluster.js';

export interface ThreeNodeTestResult {
  order: string;
  /** FReD's total error count (its exit status); -1 if it did not finish. */
  errors: number;
  /** Error count per failed suite, as FReD's summary lists them. */
  failedSuites: Record<string, number>;
  /** FReD's own "expected …, but got …" lines, for a failed run. */
  failures: string[];
  seconds: number;
  /** Set when an earlier run of the order failed only by id collisions of FReD's suite (below). */
  rerunAfter?: string;
}

const RUN_TIMEOUT_MS = 6 * 60_000;

// zerolog's console writer colours its output; the summary is parsed from plain text.
// eslint-disable-next-line no-control-regex
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

type RunOptions = { certificates?: CertificateFormat; keepLog?: string };

/**
 * Runs the suite on the order; once more if the run failed only by id collisions of the suite's
 * own making (see idCollisions), and then reports the second run.
 */
export async function runThreeNodeTest(binaries: FredBinaries, order: string, options: RunOptions = {}): Promise<ThreeNodeTestResult> {
  const first = await runOnce(binaries, order, options);
  const collided = idCollisions(first);
  if (collided.length === 0) return first;
  const second = await runOnce(binaries, order, options);
  return { ...second, rerunAfter: `${describeResult(first)}, all from ids its ConcurrencyImmutable clients drew twice (${collided.join(', ')})` };
}

/**
 * FReD's ConcurrencyImmutable suite makes each append's id from the clock plus the client's
 * index, and records the id as written whether or not its append succeeded, so two of its
 * concurrent clients can draw the same id. For such an id it reports up to three errors that
 * say nothing about the nodes: its own check that no two clients drew the same id, the second
 * append refused (an immutable item is written once: the node is right), and, as the node kept
 * the first append's value, a "wrong value" when the suite remembered the second. Returns the
 * ids drawn twice when every failure of the run is one of those; otherwise nothing.
 */
export function idCollisions(result: ThreeNodeTestResult): string[] {
  if (result.errors <= 0) return [];
  const ids = new Set<string>();
  for (const line of result.failures) {
    const id = /several clients were able to write to same id for (\d+)/.exec(line)?.[1];
    if (id) ids.add(id);
  }
  if (ids.size === 0) return [];
  const onlyThatSuite = Object.keys(result.failedSuites).every((name) => name === 'ConcurrencyImmutable');
  const explained = result.failures.every((line) => {
    const id = /(?:only one client can write to key|for) (\d+)/.exec(line)?.[1];
    return id !== undefined && ids.has(id);
  });
  return onlyThatSuite && explained && result.errors <= 3 * ids.size ? [...ids] : [];
}

async function runOnce(binaries: FredBinaries, order: string, options: RunOptions): Promise<ThreeNodeTestResult> {
  const started = Date.now();
  const cluster = await MixedCluster.start(binaries, order, { certificates: options.certificates });
  try {
    const [a, b, c] = cluster.nodes;
    const cert = (name: string) => path.join(cluster.certsDir, name);
    const args = [
      '--wait-user=false',
      '--nodeAhost', '127.0.0.1', '--nodeAhttp', String(a!.clientPort), '--nodeApeeringID', a!.id,
      '--nodeBhost', '127.0.0.1', '--nodeBhttp', String(b!.clientPort), '--nodeBpeeringID', b!.id,
      '--nodeChost', '127.0.0.1', '--nodeChttp', String(c!.clientPort), '--nodeCpeeringID', c!.id,
      '--triggerNodeHost', cluster.trigger.host, '--triggerNodeWSHost', cluster.trigger.wsHost, '--triggerNodeID', cluster.trigger.id,
      '--cert-file', cert('client.pem'), '--key-file', cert('client-key.pem'), '--ca-file', cert('ca.pem'),
      '--little-cert-file', cert('littleclient.pem'), '--little-key-file', cert('littleclient-key.pem'),
    ];
    const child = spawn(binaries.threeNodeTest, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(-1);
      }, RUN_TIMEOUT_MS);
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode ?? -1);
      });
    });
    const text = plain(output);
    if (options.keepLog) {
      fs.writeFileSync(options.keepLog, text);
      for (const node of cluster.nodes) fs.copyFileSync(cluster.logFile(node.id), `${options.keepLog}.${node.id}`);
    }
    const total = /Total Errors: (\d+)/.exec(text);
    const failedSuites: Record<string, number> = {};
    for (const m of text.matchAll(/Suite (.+?): (\d+) Errors/g)) failedSuites[m[1]!] = Number(m[2]);
    const failures = text.split('\n').filter((line) => /expected: /.test(line)).map((line) => line.trim().slice(0, 300));
    // Its exit status is the error count; the summary line says it when there were errors.
    const errors = code === -1 ? -1 : total ? Number(total[1]) : code;
    return { order, errors, failedSuites, failures, seconds: Math.round((Date.now() - started) / 1000) };
  } finally {
    await cluster.close();
  }
}

/** One line per order: `efe: 0 errors (71 s)` or with the failed suites named. */
export function describeResult(result: ThreeNodeTestResult): string {
  const suites = Object.entries(result.failedSuites).map(([name, n]) => `${name} ${n}`);
  const what = result.errors === -1 ? 'did not finish' : `${result.errors} errors`;
  const rerun = result.rerunAfter ? ` (a second run: the first had ${result.rerunAfter.replace(/^[ef]{3}: /, '')})` : '';
  return `${result.order}: ${what}${suites.length > 0 ? ` (${suites.join(', ')})` : ''} in ${result.seconds} s${rerun}`;
}
