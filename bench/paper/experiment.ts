// What every experiment script shares around its measurements: its command-line numbers and
// modes, the run on a started cluster that ends with the proxies' own cost and the cluster
// stopped (its files kept for a look when the run failed), and the JSON report.

import { machine } from '../stats.js';
import type { PaperCluster } from './cluster.js';
import { loadAverage, printProxyCost, writeReport, type HttpClient } from './load.js';
import { PAPER_DELAYS } from './network.js';

/** A positive number from the option `--name`. */
export function positive(raw: string, name: string): number {
  const n = Number(raw);
  if (!(n > 0)) throw new Error(`--${name} must be a positive number, got ${raw}`);
  return n;
}

/** The comma-separated value of --modes, each one of `allowed`. */
export function parseModes<M extends string>(raw: string, allowed: readonly M[]): M[] {
  const modes = raw.split(',').filter(Boolean) as M[];
  for (const m of modes) if (!allowed.includes(m)) throw new Error(`--modes: ${m} is not one of ${allowed.join(', ')}`);
  return modes;
}

export interface ProxyCost {
  proxy: Awaited<ReturnType<PaperCluster['network']['stats']>>;
  overhead: Awaited<ReturnType<PaperCluster['linkOverhead']>>;
}

/**
 * Runs `measure`, then reads the proxies' delivery lateness and what a proxied link costs at
 * `site`, and stops the cluster. On failure the nodes' logs are kept and their directory printed.
 */
export async function measureOn(cluster: PaperCluster, client: HttpClient, site: Parameters<PaperCluster['linkOverhead']>[0], measure: () => Promise<void>): Promise<ProxyCost> {
  let cost: ProxyCost;
  try {
    await measure();
    cost = { proxy: await cluster.network.stats(), overhead: await cluster.linkOverhead(site, client) };
  } catch (err) {
    client.close();
    await cluster.stop({ keepFiles: true });
    process.stderr.write(`node logs kept in ${cluster.dir}\n`);
    throw err;
  }
  client.close();
  await cluster.stop();
  return cost;
}

/**
 * Prints the proxies' cost and writes the JSON report: the machine and its load, the settings
 * with the emulated delays, the experiment's `data`, and the proxies' cost.
 */
export async function report(experiment: string, settings: object, data: object, cost: ProxyCost, out?: string): Promise<void> {
  printProxyCost(cost.overhead, cost.proxy);
  const settingsWithNetwork = { ...settings, delays: PAPER_DELAYS, unit: 'ms', keepAlive: true };
  await writeReport(
    experiment,
    { machine: { ...machine(), loadAverage: loadAverage() }, settings: settingsWithNetwork, ...data, proxyLateness: cost.proxy, linkOverhead: cost.overhead },
    out,
  );
}
