// Fixture types and assertion helpers shared by the ReplicaStore conformance suite.
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ReplicaStore, Sibling, StoreErrorCode } from '../../../replication/store/port.js';

export interface StoreHarness {
  store: ReplicaStore;
  /** Closes the store and opens it again on the same data; returns the store to use from then on. */
  reopen?: () => Promise<ReplicaStore>;
  /** Closes whatever store is current and removes its data. */
  cleanup: () => Promise<void>;
}

export type StoreFactory = (opts: { nodeId: string; clock: () => number }) => Promise<StoreHarness>;

/** Shared state of one test: a fresh store on node 'A' with a mutable keygroup 'kv'. */
export interface Fixture {
  store: ReplicaStore;
  harness: StoreHarness;
  /** The store's clock; tests move it by assigning. */
  now: number;
}

export const T0 = 1_700_000_000_000;

export type StoreSuite = Test<{ fx: Fixture }>;

/** Awaits `action` and asserts it failed with a StoreError carrying `code`. */
export async function rejects(action: () => Promise<unknown>, code: StoreErrorCode, mentions?: string): Promise<void> {
  try {
    await action();
  } catch (error) {
    assert.is((error as { code?: unknown }).code, code, `expected ${code}, got ${String(error)}`);
    if (mentions !== undefined) assert.ok(String((error as Error).message).includes(mentions), (error as Error).message);
    return;
  }
  assert.unreachable(`expected a rejection with ${code}`);
}

export const values = (siblings: Sibling[]) => siblings.map((s) => s.value);
export const versions = (siblings: Sibling[]) => siblings.map((s) => s.version);

export function set(store: ReplicaStore, id: string, value: string, keygroup = 'kv') {
  return store.applyLocal([{ kind: 'set', keygroup, id, value }]);
}

export async function dumpAll(store: ReplicaStore, keygroup: string) {
  const items: Array<{ id: string; siblings: Sibling[] }> = [];
  for await (const item of store.dump(keygroup)) items.push(item);
  return items;
}

