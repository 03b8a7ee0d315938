// Worker thread that runs guest instances. It keeps one warm instance per loaded function
// version (for wasi:http guests, a few fresh ones: worlds/http-calls.ts), runs one call at a
// time, and forwards the guest's KV calls to the main thread synchronously. A trapped instance is
// dropped (a component instance cannot be re-entered after a trap); an infinite loop is ended
// from outside by terminating this worker.

import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { SyncCaller } from './sync-channel.js';
import { createWasiHost } from './wasi.js';
import { invokeImports } from './invoke-imports.js';
import { checkResponse, describeFailure } from '../guest-failure.js';
import { startCodeRefusal } from '../start-code.js';
import type { FromWorker, GuestEvent, GuestRequest, HostCall, InvokeCall, InvokeReply, KvCall, KvReply, LoadSpec, LogLine, ToWorker } from '../protocol.js';
import { HTTP_WORLD } from '../../functions/worlds.js';
import { CallResponse } from '../wasi-http/call-response.js';
import { OutgoingCalls, runHttpCall, SPARE_INSTANCES, SparePool, type HttpInstance } from './worlds/http-calls.js';
import { MemoryRecycler } from './worlds/memory-recycler.js';
import { WASM_PAGE } from './memory-limit.js';
import { createHttpTypes } from './worlds/http-types.js';
import { keyvalueImports } from './worlds/keyvalue-imports.js';
import { HostEvents } from './worlds/sync-io.js';

interface Instance {
  handle: (request: GuestRequest) => unknown;
  memories: WebAssembly.Memory[];
  /** What its start code logged when it was loaded without a call (a prewarm): the first call's. */
  held?: LogLine[];
}

type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, unknown>,
  instantiateCore: (module: WebAssembly.Module, imports: WebAssembly.Imports) => Promise<WebAssembly.Instance>,
) => Promise<Record<string, { handle: (...args: never[]) => unknown }>>;

const HANDLER = 'enoki:faas/handler@0.1.0';
const KV_OPS = ['read', 'get', 'getMany', 'set', 'setMany', 'delete', 'scan', 'keys', 'append'];
// `atomics` calls travel as KV calls: the main thread's InvocationKv serves both interfaces.
const ATOMICS_OPS = ['increment', 'compareAndSwap'];
const LOG_LEVELS = new Set(['debug', 'info', 'warn', 'error']);

const port = parentPort as MessagePort;
const kvChannel = new SyncCaller<HostCall<KvCall>, KvReply>(workerData.kv);
const callChannel = new SyncCaller<HostCall<InvokeCall>, InvokeReply>(workerData.calls);
const events = new HostEvents(workerData.events);
const instances = new Map<string, Instance>();
/** wasi:http guests: instances made ahead, per code. */
const spares = new Map<string, SparePool>();

// Per-call state: the call's id (sent with each host call, checked by the main thread) and the
// guest's log lines.
let callId = 0;
let logs: LogLine[] = [];
let logBytes = 0;
let logsTruncated = false;
let maxLogBytes = 0;
let callEnv: [string, string][] = [];

function capture(line: LogLine): void {
  logBytes += line.message.length;
  if (logBytes > maxLogBytes) {
    logsTruncated = true;
    return;
  }
  logs.push(line);
}

/** Set while an instance is made: its start code may not reach what belongs to a call. */
let starting = false;

/** Host imports, shared by all instances of this worker: the call state is per worker. */
function hostImports(): Record<string, unknown> {
  const kv: Record<string, (...args: unknown[]) => unknown> = {};
  for (const op of [...KV_OPS, ...ATOMICS_OPS]) {
    kv[op] = (...args: unknown[]) => {
      if (starting) throw startCodeRefusal('key-value');
      const reply = kvChannel.call({ callId, op, args });
      if (reply.ok) return reply.value;
      // jco turns a thrown object with `payload` into the `err` case of the import's result.
      throw { payload: reply.error };
    };
  }
  const log = {
    write(level: string, message: string) {
      capture({ stream: LOG_LEVELS.has(level) ? (level as LogLine['stream']) : 'info', message: String(message) });
    },
  };
  const env = {
    get: (name: string) => callEnv.find(([key]) => key === name)?.[1],
    all: () => callEnv,
  };
  const atomics = Object.fromEntries(ATOMICS_OPS.map((op) => [op, kv[op]]));
  const invoke = invokeImports((call) => {
    if (starting) throw startCodeRefusal('invoke');
    return callChannel.call({ ...call, callId });
  });
  const keyvalue = keyvalueImports((op, args) => {
    if (starting) throw startCodeRefusal('key-value');
    const reply = kvChannel.call({ callId, op, args });
    if (reply.ok) return reply.value;
    throw { payload: reply.error };
  });
  return { 'enoki:faas/kv': kv, 'enoki:faas/atomics': atomics, 'enoki:faas/log': log, 'enoki:faas/env': env, 'enoki:faas/invoke': invoke, ...keyvalue };
}

/** A call of Enoki's world streams no body: no chunk of it is ever answered. */
const NO_BODY = { taken: () => undefined };

/** Sends a wasi:http guest's event of the call in progress to the main thread. */
function postEvent(event: GuestEvent, transfer: ArrayBuffer[] = []): void {
  port.postMessage({ type: 'event', id: callId, event } satisfies FromWorker, transfer);
}

const wasi = await createWasiHost((stream, message) => capture({ stream, message }), () => callEnv, events);
const outgoing = new OutgoingCalls(events, (event) => postEvent(event));
const http = createHttpTypes(wasi.io, wasi.sync, () => outgoing.host());
const imports = { ...hostImports(), ...wasi.imports, 'wasi:http/types': http.types, 'wasi:http/outgoing-handler': http.outgoingHandler };

/**
 * `sync`: core instances are made at once (the worker blocks either way; this spares task hops).
 * `recycler` gives the modules that import their memory a recycled one.
 */
async function instantiateComponent(
  spec: LoadSpec,
  sync = false,
  recycler?: MemoryRecycler,
): Promise<{ exports: Awaited<ReturnType<Instantiate>>; memories: WebAssembly.Memory[] }> {
  const { instantiate } = (await import(spec.glueUrl)) as { instantiate: Instantiate };
  const memories: WebAssembly.Memory[] = [];
  const exports = await instantiate(
    (name) => {
      const module = spec.modules[name];
      if (!module) throw new Error(`core module ${name} missing from the artefact`);
      return module;
    },
    imports,
    async (module, coreImports) => {
      const recycled = recycler?.importsFor(module);
      if (recycled) {
        coreImports = { ...coreImports, ...recycled.imports };
        memories.push(recycled.memory);
      }
      const instance = sync ? new WebAssembly.Instance(module, coreImports) : await WebAssembly.instantiate(module, coreImports);
      for (const value of Object.values(instance.exports)) {
        // A recycled memory is re-exported by the module that imports it: counted once.
        if (value instanceof WebAssembly.Memory && !memories.includes(value)) memories.push(value);
      }
      return instance;
    },
  );
  return { exports, memories };
}

async function load(spec: LoadSpec): Promise<Instance> {
  starting = true;
  let made: Awaited<ReturnType<typeof instantiateComponent>>;
  try {
    made = await instantiateComponent(spec);
  } finally {
    starting = false;
  }
  const { exports, memories } = made;
  const handler = exports[HANDLER];
  if (!handler || typeof handler.handle !== 'function') throw new Error(`the component does not export ${HANDLER}`);
  return { handle: handler.handle.bind(handler) as Instance['handle'], memories };
}

/** One fresh instance of a wasi:http guest. */
async function loadHttp(spec: LoadSpec, recycler: MemoryRecycler): Promise<HttpInstance> {
  const { exports, memories } = await instantiateComponent(spec, true, recycler);
  const name = Object.keys(exports).find((key) => key.startsWith('wasi:http/incoming-handler@0.2.'));
  const handler = name ? exports[name] : undefined;
  if (!handler || typeof handler.handle !== 'function') throw new Error('the component does not export wasi:http/incoming-handler@0.2.x');
  return {
    handle: handler.handle.bind(handler) as HttpInstance['handle'],
    memoryBytes: () => memories.reduce((sum, m) => sum + m.buffer.byteLength, 0),
    release: () => memories.forEach((m) => recycler.give(m)),
  };
}

function memoryBytes(instance: Instance | undefined): number {
  return instance ? instance.memories.reduce((sum, m) => sum + m.buffer.byteLength, 0) : 0;
}

/** Replies dropped by this worker's channels: any at all means their state is in doubt. */
const channelFaults = () => kvChannel.dropped + callChannel.dropped;

/** A call's outcome; the channel state is added when it is posted. */
type Done = Omit<Extract<FromWorker, { type: 'done' }>, 'channelFaults'>;

async function invoke(message: Extract<ToWorker, { type: 'invoke' }>): Promise<Done> {
  callId = message.id;
  maxLogBytes = message.maxLogBytes;
  logs = [];
  logBytes = 0;
  logsTruncated = false;
  callEnv = message.env;
  if (message.world === HTTP_WORLD) return invokeHttp(message);
  let instance = instances.get(message.instanceKey);
  const cold = instance === undefined;
  const memoryLimit = message.memoryLimitBytes;
  // A fresh instance's memory counts as grown by its call: what it took, the call did.
  const heldAtStart = memoryBytes(instance);
  try {
    if (!instance) {
      if (!message.load) throw Object.assign(new Error('no code to load'), { failure: 'load' });
      try {
        instance = await load(message.load);
      } catch (err) {
        throw Object.assign(new Error(`instantiation failed: ${(err as Error).message}`), { failure: 'load' });
      }
      instances.set(message.instanceKey, instance);
    }
    if (!message.request) {
      wasi.endCall();
      if (cold && logs.length > 0) instance.held = logs;
      return { type: 'done', id: message.id, cold, memoryBytes: memoryBytes(instance), logs, logsTruncated };
    }
    if (instance.held) {
      for (const line of instance.held) capture(line);
      instance.held = undefined;
    }
    // Its outgoing requests (a guest of Enoki's world may make them too) belong to this call.
    outgoing.begin(message.id, message.maxBodyBytes ?? 0, memoryLimit, NO_BODY);
    const response = checkResponse(instance.handle({ ...message.request }), message.request.method);
    wasi.endCall();
    return { type: 'done', id: message.id, cold, memoryBytes: memoryBytes(instance), logs, logsTruncated, response };
  } catch (err) {
    wasi.endCall();
    const heldBytes = memoryBytes(instance);
    const failure = describeFailure(err, { heldBytes, limitBytes: memoryLimit, grew: heldBytes > heldAtStart }, logs);
    // After a trap the instance refuses further calls; a guest `err` leaves it usable.
    if (failure.kind !== 'error') instances.delete(message.instanceKey);
    return { type: 'done', id: message.id, cold, memoryBytes: 0, logs, logsTruncated, failure };
  }
}

/**
 * A call of a wasi:http guest: a fresh instance, the request as an incoming-request, the response
 * checked as the guest sets it. Spares are made again once the call has answered.
 */
async function invokeHttp(message: Extract<ToWorker, { type: 'invoke' }>): Promise<Done> {
  const memoryLimit = message.memoryLimitBytes;
  let pool = spares.get(message.instanceKey);
  if (!pool || message.load) {
    const spec = message.load;
    if (!spec) return loadFailure(message, 'no code to load');
    const recycler = new MemoryRecycler(Math.floor(message.memoryLimitBytes / WASM_PAGE), SPARE_INSTANCES + 1);
    pool = new SparePool(() => loadHttp(spec, recycler));
    spares.set(message.instanceKey, pool);
  }
  let released: HttpInstance | undefined;
  const done = (fields: Omit<Done, 'type' | 'id' | 'logs' | 'logsTruncated'>): Done => {
    wasi.endCall();
    wasi.sync.beforeWait = undefined;
    const current = pool;
    setImmediate(() => {
      released?.release();
      current.refill();
    });
    return { type: 'done', id: message.id, logs, logsTruncated, ...fields };
  };
  let taken: { instance: HttpInstance; cold: boolean };
  try {
    if (!message.request) {
      const cold = await pool.warm();
      return done({ cold, memoryBytes: pool.memoryBytes() });
    }
    taken = await pool.take();
  } catch (err) {
    spares.delete(message.instanceKey);
    return loadFailure(message, `instantiation failed: ${(err as Error).message}`);
  }
  const { instance, cold } = taken;
  // Its memory goes to a later instance once this call has answered (done, below).
  released = instance;
  const response = new CallResponse(message.stream === true, postEvent, cold, memoryLimit, message.request.method);
  outgoing.begin(message.id, message.maxBodyBytes ?? 0, memoryLimit, response);
  wasi.sync.beforeWait = () => response.startStreaming();
  try {
    const problem = runHttpCall(http, instance, message.request, response);
    if (problem) return done({ cold, memoryBytes: pool.memoryBytes(), failure: { kind: 'bad-response', message: problem } });
    return done({ cold, memoryBytes: pool.memoryBytes(), response: response.response() });
  } catch (err) {
    // A wasi:http instance serves one request: whatever it holds, its call took.
    const failure = describeFailure(err, { heldBytes: instance.memoryBytes(), limitBytes: memoryLimit, grew: true }, logs);
    return done({ cold, memoryBytes: pool.memoryBytes(), failure: failure.kind === 'error' ? { kind: 'trap', message: failure.message } : failure });
  }
}

function loadFailure(message: Extract<ToWorker, { type: 'invoke' }>, text: string): Done {
  wasi.endCall();
  return { type: 'done', id: message.id, cold: true, memoryBytes: 0, logs, logsTruncated, failure: { kind: 'load', message: text } };
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'evict') {
    instances.delete(message.instanceKey);
    spares.delete(message.instanceKey);
    return;
  }
  invoke(message).then((reply) => port.postMessage({ ...reply, channelFaults: channelFaults() }));
});
port.postMessage({ type: 'ready' } satisfies FromWorker);
