// Per-function counters and latency histograms, rendered in the Prometheus text format.

import { ERROR_TABLE, isErrorCode } from '../errors.js';

const BUCKETS_MS = [0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];
/** Percentiles are over each function's most recent durations: exact, and cheap to keep. */
const RECENT = 1024;

interface FunctionStats {
  invocations: number;
  errors: Map<string, number>;
  coldStarts: number;
  /** Cumulative counts per bucket, plus the +Inf count and the sum. */
  buckets: number[];
  sumMs: number;
  /** Ring of the last RECENT durations. */
  recent: Float64Array;
}

export interface FunctionSnapshot {
  fn: string;
  invocations: number;
  errors: number;
  errorsByCode: Record<string, number>;
  coldStarts: number;
  meanMs: number;
  /** Over the last (up to) 1024 invocations; 0 before the first. */
  p50Ms: number;
  p99Ms: number;
}

export interface InvocationSample {
  fn: string;
  durationMs: number;
  cold: boolean;
  errorCode?: string;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export class Metrics {
  readonly #functions = new Map<string, FunctionStats>();
  readonly #startedAt = Date.now();

  record(sample: InvocationSample): void {
    let stats = this.#functions.get(sample.fn);
    if (!stats) {
      stats = { invocations: 0, errors: new Map(), coldStarts: 0, buckets: new Array(BUCKETS_MS.length).fill(0), sumMs: 0, recent: new Float64Array(RECENT) };
      this.#functions.set(sample.fn, stats);
    }
    stats.recent[stats.invocations % RECENT] = sample.durationMs;
    stats.invocations++;
    if (sample.cold) stats.coldStarts++;
    if (sample.errorCode) stats.errors.set(sample.errorCode, (stats.errors.get(sample.errorCode) ?? 0) + 1);
    stats.sumMs += sample.durationMs;
    for (let i = 0; i < BUCKETS_MS.length; i++) if (sample.durationMs <= BUCKETS_MS[i]) stats.buckets[i]++;
  }

  /** Summary for one function, for GET /functions/{name}. */
  summary(fn: string): { invocations: number; errors: number; coldStarts: number; meanMs: number } {
    const stats = this.#functions.get(fn);
    if (!stats) return { invocations: 0, errors: 0, coldStarts: 0, meanMs: 0 };
    let errors = 0;
    for (const n of stats.errors.values()) errors += n;
    return { invocations: stats.invocations, errors, coldStarts: stats.coldStarts, meanMs: stats.sumMs / stats.invocations };
  }

  /** Every function's counters and recent latency percentiles, for GET /metrics.json. */
  snapshot(): { uptimeSeconds: number; functions: FunctionSnapshot[] } {
    const functions: FunctionSnapshot[] = [];
    for (const [fn, s] of this.#functions) {
      const recent = s.recent.slice(0, Math.min(s.invocations, RECENT)).sort();
      const at = (q: number) => (recent.length === 0 ? 0 : recent[Math.min(recent.length - 1, Math.ceil(q * recent.length) - 1)]);
      const { errors, meanMs } = this.summary(fn);
      functions.push({ fn, invocations: s.invocations, errors, errorsByCode: Object.fromEntries(s.errors), coldStarts: s.coldStarts, meanMs, p50Ms: at(0.5), p99Ms: at(0.99) });
    }
    return { uptimeSeconds: (Date.now() - this.#startedAt) / 1000, functions: functions.sort((a, b) => (a.fn < b.fn ? -1 : 1)) };
  }

  forget(fn: string): void {
    this.#functions.delete(fn);
  }

  render(gauges: Record<string, number>): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    family('enoki_invocations_total', 'counter', 'Function invocations completed, by function.');
    for (const [fn, s] of this.#functions) out.push(`enoki_invocations_total{fn="${escapeLabel(fn)}"} ${s.invocations}`);
    family('enoki_invocation_errors_total', 'counter', 'Failed invocations, by function and error code.');
    for (const [fn, s] of this.#functions) {
      for (const [code, n] of s.errors) out.push(`enoki_invocation_errors_total{fn="${escapeLabel(fn)}",code="${code}"} ${n}`);
    }
    // Whose fault the failures were: a crashed worker or a failed disk is the host's, not a trap.
    family('enoki_invocation_failures_total', 'counter', 'Failed invocations, by function and whose fault (client, guest, host, peer).');
    for (const [fn, s] of this.#functions) {
      const byBlame = new Map<string, number>();
      for (const [code, n] of s.errors) {
        const blame = isErrorCode(code) ? ERROR_TABLE[code].blame : 'host';
        byBlame.set(blame, (byBlame.get(blame) ?? 0) + n);
      }
      for (const [blame, n] of byBlame) out.push(`enoki_invocation_failures_total{fn="${escapeLabel(fn)}",blame="${blame}"} ${n}`);
    }
    family('enoki_cold_starts_total', 'counter', 'Invocations that had to instantiate the function first.');
    for (const [fn, s] of this.#functions) out.push(`enoki_cold_starts_total{fn="${escapeLabel(fn)}"} ${s.coldStarts}`);
    family('enoki_invocation_duration_seconds', 'histogram', 'Invocation latency inside the node, by function.');
    for (const [fn, s] of this.#functions) {
      const label = `fn="${escapeLabel(fn)}"`;
      BUCKETS_MS.forEach((le, i) => out.push(`enoki_invocation_duration_seconds_bucket{${label},le="${le / 1000}"} ${s.buckets[i]}`));
      out.push(`enoki_invocation_duration_seconds_bucket{${label},le="+Inf"} ${s.invocations}`);
      out.push(`enoki_invocation_duration_seconds_sum{${label}} ${s.sumMs / 1000}`);
      out.push(`enoki_invocation_duration_seconds_count{${label}} ${s.invocations}`);
    }
    family('enoki_uptime_seconds', 'gauge', 'Seconds since the node started.');
    out.push(`enoki_uptime_seconds ${(Date.now() - this.#startedAt) / 1000}`);
    for (const [name, value] of Object.entries(gauges)) {
      family(name, 'gauge', name.replace(/^enoki_/, '').replace(/_/g, ' ') + '.');
      out.push(`${name} ${value}`);
    }
    return out.join('\n') + '\n';
  }
}
