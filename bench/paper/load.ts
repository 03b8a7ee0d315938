// Load generation for the paper experiments: an HTTP client over keep-alive connections, the
// original load scripts' paced loop (send, then sleep what is left of 1/frequency) and a closed
// loop of clients. Times are performance.now() ms of this process.
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

export interface Reply {
  status: number;
  body: string;
  start: number;
  end: number;
}

export class HttpClient {
  private readonly agent: http.Agent;

  /** maxSockets: connections per node (each kept alive: a new one pays the emulated handshake). */
  constructor(maxSockets = 256) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  /** POST with a body, GET without one (as the originals' urllib did). Never rejects on a status. */
  request(url: string, body?: string): Promise<Reply> {
    return this.attempt(url, body, true);
  }

  private attempt(url: string, body: string | undefined, retry: boolean): Promise<Reply> {
    const start = performance.now();
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(body);
      const req = http.request(
        url,
        {
          method: payload ? 'POST' : 'GET',
          agent: this.agent,
          headers: payload ? { 'content-type': 'text/plain', 'content-length': payload.length } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), start, end: performance.now() }));
          res.on('error', reject);
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive connection the server closed as idle just as it was reused: the request
        // never reached the function. Sent again once, as Node's documentation advises; the time
        // counts from the second send.
        if (retry && req.reusedSocket && err.code === 'ECONNRESET') this.attempt(url, body, false).then(resolve, reject);
        else reject(err);
      });
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * One of the load scripts' threads: call `fn`, then sleep for what is left of the period, until
 * `until` (performance.now() ms). A call that fails is recorded by `fn` and does not stop the loop.
 */
export async function pacedLoop(frequency: number, until: number, fn: (i: number) => Promise<void>): Promise<void> {
  const period = 1000 / frequency;
  for (let i = 0; performance.now() < until; i++) {
    const t = performance.now();
    await fn(i);
    await sleep(period - (performance.now() - t));
  }
}

/** `clients` closed loops calling fn(client) back to back until `until`. */
export async function closedLoop(clients: number, until: number, fn: (client: number) => Promise<void>): Promise<void> {
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < until) await fn(client);
    }),
  );
}

/**
 * Calls before measuring: opens connections (each pays the emulated handshake once), starts
 * every worker's instance (a JS cold start is ~250 ms), and gives V8 time to tier the guest's
 * hot wasm functions up from its baseline compiler, which runs the first seconds after a deploy
 * several times slower. `concurrency` calls back to back until `calls` are done or `maxMs` passed.
 */
export async function warmUp(client: HttpClient, url: string, body: (i: number) => string | undefined, { calls = 300, concurrency = 4, maxMs = 6000 } = {}): Promise<void> {
  let next = 0;
  const until = performance.now() + maxMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls && performance.now() < until) await client.request(url, body(next++)).catch(() => undefined);
    }),
  );
}

/** The machine's load while the experiment ran: it shares its two cores with other work. */
export function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' / ');
}

/** | a | b | rows for the terminal. */
export function table(rows: string[][]): string {
  return rows.map((r) => `| ${r.join(' | ')} |`).join('\n') + '\n';
}

/** The proxies' own cost, printed after every experiment's table. */
export function printProxyCost(
  overhead: { perDirectionMs: number | string; directP50: number | string; proxiedP50: number | string },
  proxy: { p50: number; p99: number; max: number; jobs: number },
): void {
  process.stdout.write(`a proxied link adds ${overhead.perDirectionMs} ms each way beyond its delay (GET /healthz p50: direct ${overhead.directP50}, through a 0 ms link ${overhead.proxiedP50})\n`);
  const lateness =
    proxy.jobs === 0 ? 'no deliveries (no measured request crossed a link)' : `p50 ${proxy.p50.toFixed(3)} ms, p99 ${proxy.p99.toFixed(3)} ms, max ${proxy.max.toFixed(1)} ms over ${proxy.jobs} deliveries`;
  process.stdout.write(`proxy delivery lateness: ${lateness}; load average ${loadAverage()}\n`);
}

/** Writes an experiment's JSON report (default bench/paper/results/<experiment>.json). */
export async function writeReport(experiment: string, report: object, out?: string): Promise<void> {
  const file = out ?? path.join('bench', 'paper', 'results', `${experiment}.json`);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, JSON.stringify({ experiment, ...report }, null, 2));
  process.stdout.write(`JSON: ${file}\n`);
}

/** Runs an experiment's main, reporting a failure with its stack and exit code 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err) => {
    process.stderr.write(String(err?.stack ?? err) + '\n');
    process.exit(1);
  });
}
