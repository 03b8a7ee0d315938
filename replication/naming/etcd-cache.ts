// Keeps a NamingState equal to etcd's FReD keys: one range read, then a watch from that revision.
//
// Invariant: the image is etcd's content at `state.revision` (restricted to FReD keys). A full
// read at revision R followed by a watch starting at R+1 keeps it so, because etcd delivers every
// later change in revision order. When the watch breaks (etcd down, connection reset, history
// compacted, watch cancelled) the cache drops it and re-syncs: a new full read (diffed against
// the image, so listeners hear about what changed meanwhile) and a new watch. Until that
// succeeds the image stays as it was, so reads keep working during an outage.
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import { NamingError, type NamingListener, type NamingLogger } from './port.js';
import { FRED_RANGE, parseKey } from './schema.js';
import { NamingState, notify, type Entry } from './state.js';

export interface EtcdCacheOptions {
  /** Deadline of each etcd call (ms). */
  requestTimeoutMs: number;
  /** Re-sync retry delay: starts at min, doubles up to max (ms). */
  retryDelayMs: { min: number; max: number };
  logger?: NamingLogger;
}

export class EtcdCache {
  readonly state = new NamingState();
  readonly listeners = new Set<NamingListener>();
  private watcher: Watcher | undefined;
  /** Bumped by every re-sync and by close: events of an older watch are ignored. */
  private generation = 0;
  private syncing: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private watching = false;
  /** Set by the first successful sync: before it, a failure is start()'s to report, not to retry. */
  private synced = false;
  private retryDelay = 0;
  private closed = false;
  private waiters = new Set<() => void>();

  constructor(
    private readonly client: Etcd3,
    private readonly options: EtcdCacheOptions,
  ) {}

  /** True while the watch is established (the image is current up to watch latency). */
  get connected(): boolean {
    return this.watching;
  }

  /** First full read and watch; rejects ERR_NAMING_UNAVAILABLE when etcd cannot be reached. */
  async start(): Promise<void> {
    await this.resync();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.generation++;
    clearTimeout(this.retryTimer);
    this.wakeWaiters();
    await this.dropWatcher();
  }

  /**
   * Resolves once the image has reached `revision` (a write's own revision). Bounded: if the watch
   * does not deliver in time the cache re-syncs, and a failed re-sync just returns (the write
   * itself succeeded; the image catches up when etcd is reachable again).
   */
  async caughtUp(revision: number): Promise<void> {
    if (this.watching && (await this.waitFor(() => this.state.revision >= revision))) return;
    if (this.state.revision < revision) await this.resync().catch(() => undefined);
  }

  /**
   * Resolves once the image moved past `revision` (etcd refused a plan made at it, so a newer
   * change is on its way); re-syncs (or throws UNAVAILABLE) if nothing arrives in time.
   */
  async movedPast(revision: number): Promise<void> {
    if (this.watching && (await this.waitFor(() => this.state.revision > revision))) return;
    if (this.state.revision <= revision) await this.resync();
  }

  /**
   * Full read + new watch; concurrent callers share one run. Rejects ERR_NAMING_UNAVAILABLE,
   * in which case (after a first successful start) a background retry has been scheduled.
   */
  resync(): Promise<void> {
    if (this.closed) return Promise.reject(new NamingError('ERR_NAMING_CLOSED', 'naming service is closed'));
    this.syncing ??= this.doResync().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async doResync(): Promise<void> {
    clearTimeout(this.retryTimer);
    const generation = ++this.generation;
    this.watching = false;
    await this.dropWatcher();
    try {
      const res = await this.client.kv.range(
        { key: Buffer.from(FRED_RANGE.start), range_end: Buffer.from(FRED_RANGE.end) },
        { deadline: Date.now() + this.options.requestTimeoutMs },
      );
      if (generation !== this.generation) return; // closed meanwhile
      const revision = Number(res.header.revision);
      const entries = new Map<string, Entry>();
      for (const kv of res.kvs) {
        const key = kv.key.toString();
        if (parseKey(key)) entries.set(key, { value: kv.value.toString(), mod: Number(kv.mod_revision) });
      }
      this.publish(this.state.replaceAll(entries, revision));
      await this.watchFrom(revision + 1, generation);
      this.watching = true;
      this.synced = true;
      this.retryDelay = this.options.retryDelayMs.min;
      this.options.logger?.debug({ revision, keys: entries.size }, 'naming cache synced with etcd');
    } catch (err) {
      if (generation === this.generation && !this.closed && this.synced) this.scheduleRetry();
      throw unavailable('cannot sync the naming cache with etcd', err);
    }
  }

  private scheduleRetry(): void {
    const wait = Math.max(this.retryDelay, this.options.retryDelayMs.min);
    this.retryDelay = Math.min(wait * 2, this.options.retryDelayMs.max);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.closed) this.resync().catch(() => undefined); // failure schedules the next try
    }, wait);
    this.retryTimer.unref(); // a retry loop alone must not keep the process alive
  }

  private async watchFrom(startRevision: number, generation: number): Promise<void> {
    const watcher = this.client.watch().inRange(FRED_RANGE).startRevision(String(startRevision)).watcher();
    this.watcher = watcher;
    const broken = (why: string) => (err?: unknown) => {
      if (generation !== this.generation || this.closed) return;
      this.watching = false;
      this.options.logger?.warn({ err: String(err ?? why) }, `naming watch ${why}; re-syncing`);
      this.resync().catch(() => undefined);
    };
    watcher.on('data', (res: IWatchResponse) => {
      if (generation === this.generation) this.onWatchData(res);
    });
    // etcd3 would resume a broken stream by itself, but only a full read also recovers from
    // compacted history; one recovery path is simpler to trust than two.
    watcher.on('disconnected', broken('disconnected'));
    watcher.on('error', broken('failed'));
    const connected = new Promise<void>((resolve, reject) => {
      watcher.once('connected', () => resolve());
      watcher.once('error', reject);
      watcher.once('disconnected', reject);
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`watch not established in ${this.options.requestTimeoutMs} ms`)), this.options.requestTimeoutMs);
    });
    try {
      await Promise.race([connected, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private onWatchData(res: IWatchResponse): void {
    const updates = res.events.map((ev) => ({
      key: ev.kv.key.toString(),
      value: ev.type === 'Delete' ? undefined : ev.kv.value.toString(),
      mod: Number((ev.kv as IKeyValue).mod_revision),
    }));
    this.publish(this.state.apply(updates, Number(res.header.revision)));
  }

  private publish(changes: ReturnType<NamingState['apply']>): void {
    this.wakeWaiters();
    notify(this.listeners, changes, this.options.logger);
  }

  private async dropWatcher(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = undefined;
    if (!watcher) return;
    watcher.removeAllListeners();
    watcher.on('error', () => undefined); // late errors of a dropped watch are expected
    // Cancelling waits for etcd's answer; never let a dead connection hold a re-sync up.
    await Promise.race([watcher.cancel().catch(() => undefined), delay(Math.min(1000, this.options.requestTimeoutMs))]);
  }

  private waitFor(done: () => boolean): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!done() && !this.closed) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(done());
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve(done());
      }, this.options.requestTimeoutMs);
      this.waiters.add(check);
    });
  }

  private wakeWaiters(): void {
    for (const check of [...this.waiters]) check();
  }
}

export function unavailable(message: string, cause: unknown): NamingError {
  if (cause instanceof NamingError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new NamingError('ERR_NAMING_UNAVAILABLE', `${message}: ${detail}`, { cause });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
