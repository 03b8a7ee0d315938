// Shared fixtures of the naming tests: harness type, two nodes, error and polling assertions.
import * as assert from 'uvu/assert';
import type { NamingService, NodeRecord } from '../../../replication/naming/port.js';

export interface NamingHarness {
  /** Node A's view, started. */
  naming: NamingService;
  /** Another node's view of the same cluster, started (MemoryNaming: the same instance). */
  peer: NamingService;
  /** Every key and raw value the backend holds (etcd: read with a plain etcd client). */
  raw(): Promise<Record<string, string>>;
  cleanup(): Promise<void>;
}

export type NamingFactory = () => Promise<NamingHarness>;

export const NODE_A: NodeRecord = { id: 'A', address: '10.0.0.1:5555', extAddress: '10.0.0.1:9001' };
export const NODE_B: NodeRecord = { id: 'B', address: '10.0.0.2:5555', extAddress: '10.0.0.2:9001' };

export async function rejects(fn: () => Promise<unknown>, code: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    assert.is((err as { code?: string }).code, code, `expected ${code}, got ${(err as Error).message}`);
    return;
  }
  assert.unreachable(`expected rejection with ${code}`);
}

/** Retries an assertion until it passes or the bound runs out (watch delivery is asynchronous). */
export async function eventually(check: () => unknown, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
