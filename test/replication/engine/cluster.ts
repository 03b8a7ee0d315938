// An in-process cluster for engine tests: MemoryReplicaStore + MemoryOutbox + MemoryNetwork +
// MemoryMembershipRegistry per node, all on one fake clock and one seeded random source.
import * as assert from 'uvu/assert';
import { ReplicationEngine, type ReplicationEngineOptions, type ReplicationMode, type ReplicationResult } from '../../../replication/engine/engine.js';
import { MemoryMembershipRegistry } from '../../../replication/engine/membership.js';
import { MemoryNetwork, seededRandom, type NetworkFaults } from '../../../replication/engine/memory-transport.js';
import { MemoryOutbox, type Outbox } from '../../../replication/engine/outbox.js';
import { ManualTimers } from '../../../replication/engine/timers.js';
import { MemoryReplicaStore } from '../../../replication/store/memory-store.js';
import type { AppliedWrite, LocalWrite, Sibling, Version } from '../../../replication/store/port.js';
import { compare, versionText } from '../../../replication/store/version.js';

export const T0 = 1_700_000_000_000;

export type EngineTuning = Partial<Omit<ReplicationEngineOptions, 'store' | 'transport' | 'outbox' | 'membership'>>;

export interface TestNode {
  id: string;
  store: MemoryReplicaStore;
  outbox: Outbox;
  engine: ReplicationEngine;
}

export interface ClusterOptions {
  seed?: number;
  faults?: Partial<NetworkFaults>;
  engine?: EngineTuning;
}

/** What a test wrote and was told about it. */
export interface Written {
  node: string;
  applied: AppliedWrite[];
  result: Promise<ReplicationResult>;
}

export class Cluster {
  readonly timers = new ManualTimers(T0);
  readonly random: () => number;
  readonly network: MemoryNetwork;
  readonly registry = new MemoryMembershipRegistry();
  readonly nodes = new Map<string, TestNode>();
  /** Every write a replicateLocal call was made for, to check nothing was lost. */
  readonly writes: AppliedWrite[] = [];
  private readonly tuning: EngineTuning;

  constructor(options: ClusterOptions = {}) {
    this.random = seededRandom(options.seed ?? 1);
    this.network = new MemoryNetwork({ timers: this.timers, random: this.random, faults: options.faults });
    // Anti-entropy off unless a test turns it on, so that each test shows which mechanism repairs.
    this.tuning = { antiEntropyIntervalMs: 0, retry: { baseMs: 100, maxMs: 2_000 }, ...options.engine };
  }

  static async start(ids: string[], options: ClusterOptions = {}): Promise<Cluster> {
    const cluster = new Cluster(options);
    for (const id of ids) await cluster.addNode(id);
    return cluster;
  }

  node(id: string): TestNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  async addNode(id: string, tuning: EngineTuning = {}): Promise<TestNode> {
    const store = new MemoryReplicaStore({ nodeId: id, clock: () => this.timers.now() });
    await store.open();
    const outbox = new MemoryOutbox();
    await outbox.open();
    const node: TestNode = { id, store, outbox, engine: this.engine(id, store, outbox, tuning) };
    this.nodes.set(id, node);
    await node.engine.start();
    return node;
  }

  /** Stops a node's engine and starts a new one on the same store; `outbox` replaces its outbox. */
  async restart(id: string, options: { outbox?: Outbox; tuning?: EngineTuning } = {}): Promise<TestNode> {
    const node = this.node(id);
    await node.engine.stop();
    if (options.outbox) {
      node.outbox = options.outbox;
      await node.outbox.open();
    }
    node.engine = this.engine(id, node.store, node.outbox, options.tuning ?? {});
    await node.engine.start();
    return node;
  }

  /** Creates a keygroup as the composition root would: in the registry and on every member's store. */
  async createKeygroup(name: string, members: string[], options: { mutable?: boolean; expiry?: Record<string, number> } = {}) {
    const mutable = options.mutable ?? true;
    const list = members.map((nodeId) => ({ nodeId, expiry: options.expiry?.[nodeId] ?? 0 }));
    for (const m of list) await this.node(m.nodeId).store.createKeygroup({ name, mutable, expiry: m.expiry });
    this.registry.createKeygroup(name, { mutable, members: list });
    await this.run(0);
  }

  /** Applies writes on a node and hands them to its engine; the result settles as time advances. */
  async apply(node: string, writes: LocalWrite[], mode: ReplicationMode = 'sync'): Promise<Written> {
    const n = this.node(node);
    const applied = await n.store.applyLocal(writes);
    this.writes.push(...applied);
    const result = n.engine.replicateLocal(applied, mode);
    return { node, applied, result };
  }

  set(node: string, id: string, value: string, keygroup = 'kv', mode: ReplicationMode = 'sync'): Promise<Written> {
    return this.apply(node, [{ kind: 'set', keygroup, id, value }], mode);
  }

  del(node: string, id: string, keygroup = 'kv', mode: ReplicationMode = 'sync'): Promise<Written> {
    return this.apply(node, [{ kind: 'delete', keygroup, id }], mode);
  }

  run(ms: number): Promise<void> {
    return this.timers.advance(ms);
  }

  /** Anti-entropy rounds on every running node, `rounds` times, letting messages land between. */
  async antiEntropy(rounds = 1, ids = [...this.nodes.keys()]): Promise<void> {
    for (let r = 0; r < rounds; r++) {
      const done = ids.map((id) => this.node(id).engine.runAntiEntropy());
      await this.runUntil(Promise.all(done));
    }
  }

  /** Advances time in steps until `promise` settles (at most `limitMs`). */
  async runUntil<T>(promise: Promise<T>, limitMs = 60_000, stepMs = 10): Promise<T> {
    let settled = false;
    void promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let waited = 0; !settled && waited <= limitMs; waited += stepMs) await this.run(stepMs);
    assert.ok(settled, `still pending after ${limitMs} ms of fake time`);
    return promise;
  }

  async stop(): Promise<void> {
    for (const node of this.nodes.values()) await node.engine.stop();
  }

  /** Canonical text of a node's full copy of a keygroup (siblings incl. tombstones, sorted). */
  async canonical(id: string, keygroup = 'kv'): Promise<string> {
    const lines: string[] = [];
    for await (const item of this.node(id).store.dump(keygroup)) {
      const siblings = item.siblings.map((s) => `${s.tombstone ? 'x' : 'v'}[${versionText(s.version)}]${s.value}`).sort();
      lines.push(`${item.id}=${siblings.join('|')}`);
    }
    return lines.sort().join('\n');
  }

  /** Asserts every listed node holds the same full copy and returns it. */
  async assertConverged(keygroup = 'kv', ids = [...this.nodes.keys()]): Promise<string> {
    const [first, ...rest] = ids;
    const expected = await this.canonical(first!, keygroup);
    for (const id of rest) assert.is(await this.canonical(id, keygroup), expected, `${id} differs from ${first}`);
    return expected;
  }

  /** Asserts that every recorded write is stored, or superseded by a newer version, on each node. */
  async assertNothingLost(keygroup = 'kv', ids = [...this.nodes.keys()]): Promise<void> {
    for (const id of ids) {
      const items = new Map<string, Sibling[]>();
      for await (const item of this.node(id).store.dump(keygroup)) items.set(item.id, item.siblings);
      for (const write of this.writes.filter((w) => w.keygroup === keygroup)) {
        const held = items.get(write.id) ?? [];
        assert.ok(
          held.some((s) => covers(s.version, write.sibling.version)),
          `${id} lost ${write.id}@${versionText(write.sibling.version)}`,
        );
      }
    }
  }

  private engine(id: string, store: MemoryReplicaStore, outbox: Outbox, tuning: EngineTuning): ReplicationEngine {
    const engine = new ReplicationEngine({
      store,
      outbox,
      transport: this.network.transport(id),
      membership: this.registry.view(id),
      timers: this.timers,
      random: this.random,
      ...this.tuning,
      ...tuning,
    });
    this.network.register(id, engine);
    return engine;
  }
}

function covers(held: Version, written: Version): boolean {
  const order = compare(held, written);
  return order === 'equal' || order === 'after';
}

/** Fixed-size values keep assertions readable: `v(3)` → 'v3'. */
export const v = (n: number | string) => `v${n}`;
