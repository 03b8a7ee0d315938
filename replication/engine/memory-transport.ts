// MemoryNetwork: PeerTransport for N engines in one process, with faults the test controls
// (partitions, lost and duplicated messages, random latency that reorders, nodes down).
import type { Timers } from './timers.js';
import {
  PeerUnavailableError,
  type DigestRequest,
  type DigestResponse,
  type ItemData,
  type ItemRequest,
  type KeygroupRequest,
  type PeerHandler,
  type PeerMessage,
  type PeerTransport,
} from './transport.js';

export interface NetworkFaults {
  /** Probability that one leg (request or response) of a call is lost; the caller then sees PeerUnavailableError. */
  dropRate: number;
  /** Probability that a delivered request reaches the handler a second time, a little later. */
  duplicateRate: number;
  /** Each leg takes a uniformly random delay in [min, max] ms, so concurrent messages reorder. */
  latency: { min: number; max: number };
}

export interface MemoryNetworkOptions {
  /** Delays are scheduled on these timers (ManualTimers in tests). */
  timers: Timers;
  /** Source of every random decision; inject seededRandom(n) for reproducible runs. */
  random?: () => number;
  faults?: Partial<NetworkFaults>;
}

export interface NetworkStats {
  calls: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  refused: number;
}

/** A small deterministic PRNG (mulberry32) returning numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pairKey = (a: string, b: string) => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);

/**
 * Every payload and result is copied with structuredClone, as serialisation would, so no engine
 * can alias another's state. Reachability is checked when a call starts and again after each
 * leg's delay, so a partition or a node going down also cuts calls in flight.
 */
export class MemoryNetwork {
  readonly stats: NetworkStats = { calls: 0, delivered: 0, dropped: 0, duplicated: 0, refused: 0 };
  private readonly timers: Timers;
  private readonly random: () => number;
  private faults: NetworkFaults;
  private readonly handlers = new Map<string, PeerHandler>();
  private readonly partitions = new Set<string>();
  private readonly downNodes = new Set<string>();

  constructor(options: MemoryNetworkOptions) {
    this.timers = options.timers;
    this.random = options.random ?? Math.random;
    this.faults = { dropRate: 0, duplicateRate: 0, latency: { min: 0, max: 0 }, ...options.faults };
  }

  /** The transport a node sends with; it works whether or not the node has registered a handler. */
  transport(nodeId: string): PeerTransport {
    const call = <T>(to: string, invoke: (h: PeerHandler) => Promise<T>) => this.call(nodeId, to, invoke);
    return {
      send: (peer: string, message: PeerMessage) => call(peer, (h) => h.handle(nodeId, structuredClone(message))),
      getItem: (peer: string, request: ItemRequest): Promise<ItemData[]> =>
        call(peer, (h) => h.getItem(nodeId, structuredClone(request))),
      getAllItems: (peer: string, request: KeygroupRequest): Promise<ItemData[]> =>
        call(peer, (h) => h.getAllItems(nodeId, structuredClone(request))),
      exchangeDigest: (peer: string, request: DigestRequest): Promise<DigestResponse> =>
        call(peer, (h) => h.exchangeDigest(nodeId, structuredClone(request))),
    };
  }

  /** Sets (or replaces, e.g. after a restart) the receiving side of a node. */
  register(nodeId: string, handler: PeerHandler): void {
    this.handlers.set(nodeId, handler);
  }

  /** Calls to a node without a handler fail as if it were unreachable. */
  unregister(nodeId: string): void {
    this.handlers.delete(nodeId);
  }

  setFaults(faults: Partial<NetworkFaults>): void {
    this.faults = { ...this.faults, ...faults };
  }

  /** Cuts the link between a and b in both directions. */
  partition(a: string, b: string): void {
    this.partitions.add(pairKey(a, b));
  }

  /** Cuts `node` off from every node in `others`. */
  isolate(node: string, others: Iterable<string>): void {
    for (const other of others) if (other !== node) this.partition(node, other);
  }

  /** Restores one link, or every link when called without arguments. */
  heal(a?: string, b?: string): void {
    if (a === undefined || b === undefined) this.partitions.clear();
    else this.partitions.delete(pairKey(a, b));
  }

  /** A down node neither receives nor sends (it crashed or lost its network). */
  down(node: string): void {
    this.downNodes.add(node);
  }

  up(node: string): void {
    this.downNodes.delete(node);
  }

  reachable(from: string, to: string): boolean {
    return (
      this.handlers.has(to) &&
      this.handlers.has(from) &&
      !this.downNodes.has(from) &&
      !this.downNodes.has(to) &&
      !this.partitions.has(pairKey(from, to))
    );
  }

  private async call<T>(from: string, to: string, invoke: (h: PeerHandler) => Promise<T>): Promise<T> {
    this.stats.calls++;
    await this.leg(from, to, to);
    const handler = this.handlers.get(to)!;
    if (this.random() < this.faults.duplicateRate) {
      this.stats.duplicated++;
      // The copy's outcome is never seen by the caller, as with a retransmitted packet.
      void this.delay().then(() => (this.reachable(from, to) ? invoke(handler) : undefined)).catch(() => {});
    }
    let result: T;
    try {
      result = await invoke(handler);
    } catch (error) {
      await this.leg(to, from, to);
      throw error;
    }
    await this.leg(to, from, to);
    this.stats.delivered++;
    return structuredClone(result);
  }

  /** One direction of a call: latency, then loss and reachability. `callee` is named in errors. */
  private async leg(from: string, to: string, callee: string): Promise<void> {
    if (!this.reachable(from, to)) return this.refuse(from, to, callee);
    await this.delay();
    if (!this.reachable(from, to)) return this.refuse(from, to, callee);
    if (this.random() < this.faults.dropRate) {
      this.stats.dropped++;
      throw new PeerUnavailableError(callee, `message between ${from} and ${to} lost`);
    }
  }

  private refuse(from: string, to: string, callee: string): never {
    this.stats.refused++;
    throw new PeerUnavailableError(callee, `no route from ${from} to ${to}`);
  }

  private delay(): Promise<void> {
    const { min, max } = this.faults.latency;
    if (max <= 0) return Promise.resolve();
    const ms = min + this.random() * (max - min);
    return new Promise((resolve) => this.timers.setTimeout(resolve, ms));
  }
}
