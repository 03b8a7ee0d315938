// NamingService on etcd v3 (FReD's naming service): reads from a watch-fed cache, writes as etcd transactions.
import { Etcd3, type ICompare, type IOptions, type IRequestOp } from 'etcd3';
import { EtcdCache, unavailable } from './etcd-cache.js';
import { NamingBase } from './naming-base.js';
import { NamingError, type NamingListener, type NamingLogger } from './port.js';
import type { Guard, Op, Planner } from './plans.js';
import type { NamingState } from './state.js';

export interface EtcdTlsOptions {
  /** PEM of the CA that signed etcd's server certificate. */
  ca: string | Buffer;
  /** PEM client certificate and key, for etcd with --client-cert-auth (FReD uses the node's certificate). */
  cert?: string | Buffer;
  key?: string | Buffer;
}

export interface EtcdNamingOptions {
  /** Client URLs, e.g. ['https://10.0.0.1:2379']; several for an etcd cluster. */
  endpoints: string[];
  tls?: EtcdTlsOptions;
  /** Deadline of each etcd call, and bound of each wait for the watch (ms). Default 5000. */
  requestTimeoutMs?: number;
  /** Re-sync retry delays after etcd became unreachable (ms). Default 100 doubling to 2000. */
  retryDelayMs?: { min: number; max: number };
  /** etcd's --max-txn-ops (default 128): larger plans are split, cleanup first. */
  maxTxnOps?: number;
  logger?: NamingLogger;
}

/** Conflicting concurrent writers make a write re-plan; this many rounds means something is wrong. */
const MAX_CONFLICTS = 20;

export class EtcdNaming extends NamingBase {
  private readonly client: Etcd3;
  private readonly cache: EtcdCache;
  private readonly requestTimeoutMs: number;
  private readonly maxTxnOps: number;

  constructor(options: EtcdNamingOptions) {
    super();
    if (!Array.isArray(options.endpoints) || options.endpoints.length === 0) {
      throw new NamingError('ERR_INVALID_ARGUMENT', 'EtcdNaming needs at least one endpoint');
    }
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.maxTxnOps = options.maxTxnOps ?? 128;
    this.client = new Etcd3(clientOptions(options));
    this.cache = new EtcdCache(this.client, {
      requestTimeoutMs: this.requestTimeoutMs,
      retryDelayMs: options.retryDelayMs ?? { min: 100, max: 2000 },
      logger: options.logger,
    });
  }

  protected get state(): NamingState {
    return this.cache.state;
  }

  protected get listeners(): Set<NamingListener> {
    return this.cache.listeners;
  }

  /** True while the watch is up; false while etcd is unreachable and reads come from the last image. */
  get connected(): boolean {
    return this.cache.connected;
  }

  protected async _start(): Promise<void> {
    await this.cache.start();
  }

  protected async _close(): Promise<void> {
    await this.cache.close();
    this.client.close();
  }

  /**
   * Optimistic concurrency: plan from the cache, send the plan as a transaction whose compares
   * are the plan's guards. If etcd disagrees with the cache, wait until the watch delivers the
   * difference and plan again. An error outcome is confirmed the same way (guards only, no ops).
   */
  protected async _write(planner: Planner): Promise<void> {
    for (let conflicts = 0; conflicts < MAX_CONFLICTS; ) {
      const plannedAt = this.state.revision;
      const plan = planner(this.state);
      let ops = [...plan.cleanup, ...plan.ops];
      let partial = false;
      if (ops.length > this.maxTxnOps) {
        // Cleanup is safe on its own under the same guards; do it in chunks, then plan again.
        ops = plan.cleanup.slice(0, this.maxTxnOps);
        partial = true;
        if (ops.length === 0) throw new NamingError('ERR_INVALID_ARGUMENT', `a write of ${plan.ops.length} keys exceeds etcd's transaction limit`);
      }
      const result = await this.txn(plan.guards, ops);
      if (!result.succeeded) {
        conflicts++;
        await this.cache.movedPast(plannedAt);
        continue;
      }
      if (plan.error) throw plan.error;
      // Read-your-writes: the caller's next read on this instance must see the write.
      if (ops.length > 0) await this.cache.caughtUp(result.revision);
      if (!partial) return;
    }
    throw new NamingError('ERR_NAMING_CONFLICT', `write still conflicting after ${MAX_CONFLICTS} attempts`);
  }

  private async txn(guards: readonly Guard[], ops: readonly Op[]): Promise<{ succeeded: boolean; revision: number }> {
    try {
      const res = await this.client.kv.txn(
        { compare: guards.map(toCompare), success: ops.map(toRequestOp), failure: [] },
        { deadline: Date.now() + this.requestTimeoutMs },
      );
      return { succeeded: res.succeeded, revision: Number(res.header.revision) };
    } catch (err) {
      throw unavailable('etcd write failed', err);
    }
  }
}

function toCompare(guard: Guard): ICompare {
  if ('prefix' in guard) {
    // Every key in the range must have mod_revision ≤ maxMod (an empty range passes).
    return { key: Buffer.from(guard.prefix), range_end: prefixEnd(guard.prefix), target: 'Mod', result: 'Less', mod_revision: guard.maxMod + 1 };
  }
  if (guard.value === undefined) {
    // An absent key has version 0; a value compare on it would always fail.
    return { key: Buffer.from(guard.key), target: 'Version', result: 'Equal', version: 0 };
  }
  return { key: Buffer.from(guard.key), target: 'Value', result: 'Equal', value: Buffer.from(guard.value) };
}

function toRequestOp(op: Op): IRequestOp {
  if (op.value === undefined) return { request_delete_range: { key: Buffer.from(op.key) } };
  return { request_put: { key: Buffer.from(op.key), value: Buffer.from(op.value) } };
}

/** The first key after every key starting with `prefix` (etcd's range_end for a prefix). */
function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

function clientOptions(options: EtcdNamingOptions): IOptions {
  const tls = options.tls;
  const toBuffer = (v: string | Buffer | undefined) => (v === undefined ? undefined : Buffer.from(v));
  if (tls && (tls.cert === undefined) !== (tls.key === undefined)) {
    throw new NamingError('ERR_INVALID_ARGUMENT', 'etcd TLS needs both a client certificate and its key, or neither');
  }
  // The naming service does its own retrying (re-sync loop, re-planning), and a failed write must
  // surface as ERR_NAMING_UNAVAILABLE within one deadline: no retries or circuit breakers below it.
  const passThrough = { execute: <T>(fn: (ctx: unknown) => T) => Promise.resolve().then(() => fn({ signal: new AbortController().signal })) };
  return {
    hosts: options.endpoints,
    credentials: tls ? { rootCertificate: Buffer.from(tls.ca), privateKey: toBuffer(tls.key), certChain: toBuffer(tls.cert) } : undefined,
    dialTimeout: options.requestTimeoutMs ?? 5000,
    faultHandling: {
      host: () => passThrough as never,
      global: passThrough as never,
    },
    grpcOptions: {
      // Reconnect promptly once etcd is back, instead of grpc's default backoff of up to 2 min.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2000,
      // Notice a silently dead connection (partition); etcd rejects pings more often than 5 s.
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    },
  };
}
