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
}

const RUN_TIMEOUT_MS = 6 * 60_000;

// zerolog's console writer colours its output; the summary is parsed from plain text.
// eslint-disable-next-line no-control-regex
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

export async function runThreeNodeTest(
  binaries: FredBinaries,
  order: string,
  options: { certificates?: CertificateFormat; keepLog?: string } = {},
): Promise<ThreeNodeTestResult> {
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
  return `${result.order}: ${what}${suites.length > 0 ? ` (${suites.join(', ')})` : ''} in ${result.seconds} s`;
}
