// One worker thread of the pool (worker-pool.ts) with its host-call channels: a guest's KV calls
// and function calls are served only for the call running on it (by call id); anything else on
// its channels is a fault that retires it. What the worker says and when it dies go to the pool.

import { Worker } from 'node:worker_threads';
import type { EnokiError } from '../../errors.js';
import type { Job, JobResult } from '../engine.js';
import type { FromWorker, HostCall, InvokeCall, InvokeReply, KvCall, KvReply } from '../protocol.js';
import { createSyncChannel, serveSyncChannel, type SyncChannelPair } from './sync-channel.js';

export interface Pending {
  job: Job;
  enqueuedAt: number;
  resolve: (result: JobResult) => void;
  reject: (err: EnokiError) => void;
  /** A worker is loading this call's code for it while it waits for a warm one. */
  warming?: boolean;
}

export interface Slot {
  /** For logs: workers are numbered as they start. */
  id: number;
  worker: Worker;
  startedAt: number;
  /** When it last finished a call (or started): idle workers beyond the minimum are stopped. */
  idleSince: number;
  ready: Promise<void>;
  running?: Pending & { id: number; timer: NodeJS.Timeout; queuedMs: number; evicted?: boolean };
  /** instanceKey → warm instance bookkeeping. */
  warm: Map<string, { lastUsed: number; memoryBytes: number }>;
  /** The guest waits for a callee (an `invoke` call in progress). */
  blocked: boolean;
  /** Its channels misbehaved (see sync-channel.ts): replaced once its running call ends. */
  inDoubt?: boolean;
}

export interface SlotHooks {
  finish(slot: Slot, message: Extract<FromWorker, { type: 'done' }>): void;
  event(slot: Slot, message: Extract<FromWorker, { type: 'event' }>, events: SyncChannelPair): void;
  /** Its channels misbehaved. */
  fault(slot: Slot, reason: string): void;
  /** The thread failed or exited. */
  died(slot: Slot, reason: string): void;
}

/** A worker's young generation, MiB (see spawnSlot). */
export const WORKER_YOUNG_GENERATION_MB = 16;

/** Starts a worker; `ready` settles once it can take calls (or rejects if it dies first). */
export function spawnSlot(id: number, script: URL | undefined, hooks: SlotHooks): Slot {
  const channel = createSyncChannel();
  const calls = createSyncChannel();
  // Answers to a guest's outgoing requests, read by the busy worker (worlds/sync-io.ts).
  const events = createSyncChannel();
  const worker = new Worker(script ?? new URL('./guest-worker.js', import.meta.url), {
    workerData: { kv: channel.workerEnd, calls: calls.workerEnd, events: events.workerEnd },
    transferList: [channel.workerEnd.port, calls.workerEnd.port, events.workerEnd.port],
    // Caps the JS heap of the worker; wasm linear memory is capped by the memory section. The
    // young generation is capped too: a dead guest instance's linear memory is freed only when
    // the collector finds its wrapper dead. With V8's default young generation, a JS wasi:http
    // function's node in the peers bench held about as much as `jco serve` after the load runs;
    // with this cap, about half.
    resourceLimits: { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  });
  const now = performance.now();
  const slot: Slot = { id, worker, startedAt: now, idleSince: now, warm: new Map(), ready: Promise.resolve(), blocked: false };
  slot.ready = new Promise((resolve, reject) => {
    const onMessage = (message: FromWorker) => {
      if (message.type === 'ready') {
        // Held until ready so that a starting worker's fate is always heard; then it must not
        // keep the process alive on its own.
        worker.unref();
        resolve();
      } else if (message.type === 'event') hooks.event(slot, message, events);
      else hooks.finish(slot, message);
    };
    worker.on('message', onMessage);
    worker.once('error', (err) => reject(err));
    worker.once('exit', (code) => reject(new Error(`the worker exited with code ${code} before it was ready`)));
  });
  // A host call is served only for the call running on the worker, identified by its id: a
  // call arriving for another one means the worker's view of its calls is in doubt.
  const current = (call: HostCall<unknown>) => {
    const running = slot.running;
    if (running?.id === call.callId) return running;
    hooks.fault(slot, `a host call for call ${call.callId} arrived while ${running ? `call ${running.id}` : 'no call'} runs`);
    return undefined;
  };
  const malformed = () => hooks.fault(slot, 'a malformed message arrived on a host-call channel');
  serveSyncChannel<HostCall<KvCall>, KvReply>(
    channel,
    async (call) => {
      const running = current(call);
      if (!running) return { ok: false, error: { tag: 'unavailable', val: 'no such invocation in progress' } };
      return running.job.kv(call);
    },
    (err) => ({ ok: false, error: { tag: 'unavailable', val: String(err) } }),
    malformed,
  );
  serveSyncChannel<HostCall<InvokeCall>, InvokeReply>(
    calls,
    async (call) => {
      const running = current(call);
      if (!running?.job.invoke) return { ok: false, error: { tag: 'unavailable', val: 'calls are not served here' } };
      // The job's timer started when it was dispatched.
      const remainingMs = running.enqueuedAt + running.queuedMs + running.job.timeoutMs - performance.now();
      slot.blocked = true;
      try {
        return await running.job.invoke(call, remainingMs);
      } finally {
        slot.blocked = false;
      }
    },
    (err) => ({ ok: false, error: { tag: 'unavailable', val: String(err) } }),
    malformed,
  );
  worker.on('error', (err: Error) => hooks.died(slot, `the worker failed: ${err.message}`));
  worker.on('exit', (code) => hooks.died(slot, `the worker exited with code ${code}`));
  return slot;
}
