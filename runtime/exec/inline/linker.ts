// Instantiates a component from its plan (wasm/component.ts) with this host's own bindings:
// core instances are made in the component's order, from templates (wasm/module.ts) whose
// memory the host creates (sized by the function, capped by its limit) and fills with the
// module's data image, whose metering imports reach the instance's Meter, and whose lowered
// imports are the enoki world's bindings (enoki-world.ts). The handler export is called through
// JSPI, so a guest waiting for the host (a scan, a nested call, a time slice) does not block the
// event loop; a guest of Enoki's world that imports nothing that waits may be called on the
// plain stack instead (`mayRunOnStack`), which spares the stack switches of JSPI: only its time
// slice could make it wait, and a call that uses one up is started again (meter.ts).

import type { CanonOptions, ComponentPlan, CoreSort } from '../wasm/component.js';
import { FUEL_EXPORT, MEMORY_IMPORT, MEMORY_MODULE, METER_CHECK, METER_MODULE, METER_SUSPEND, paramExport, START_EXPORT, type DataImage, type MemoryShape } from '../wasm/module.js';
import { liftExport, lowerImport } from './canon-calls.js';
import { GuestMemory, HandleTable } from './guest-memory.js';
import type { GuestHost } from './binding.js';
import { HANDLE_EXPORT, HANDLE_TYPE, type HandleResult } from './enoki-world.js';
import { HTTP_HANDLE_TYPE, isHttpHandleExport } from './http-world.js';
import { hostImport } from './imports.js';
import type { GuestRequest } from '../protocol.js';
import { promising, suspending } from './jspi.js';
import type { MemoryShelf } from '../wasm/memory-shelf.js';
import { Meter } from './meter.js';
import { StartHost } from './start-host.js';

/** One core module of the component, ready to instantiate. */
export interface PreparedCore {
  module: WebAssembly.Module;
  metered: boolean;
  /** The memory the original module defined (now imported), and its data. */
  memory?: MemoryShape;
  /** Read when an instance is made. */
  image: () => DataImage[];
  /** Values of the template's parameters, in order. */
  params: bigint[];
}

export interface Linkable {
  plan: ComponentPlan;
  cores: PreparedCore[];
}

/**
 * Interfaces whose functions act only on the call itself (its log and output, its environment,
 * clocks, random numbers): a call that used only these and was stopped can be made again
 * without anyone outside it noticing. Key-value, calls and outgoing HTTP are not among them.
 */
const CALL_LOCAL = /^(enoki:faas\/(log|env)|wasi:(random|clocks|cli|io|filesystem)\/)/;

/** Why the plan cannot be linked with this host's bindings, or undefined when it can. */
export function unlinkable(plan: ComponentPlan): string | undefined {
  if (plan.unsupported.length > 0) return plan.unsupported.join('; ');
  for (const d of plan.definitions) {
    if (d.kind === 'resource' && d.op !== 'drop') return 'resources of its own';
    if (d.kind !== 'lower') continue;
    const f = plan.funcs[d.func];
    if (f?.kind !== 'imported') return 'a lowered function that is not an import';
    if (!hostImport(f.interface, f.name)) return `an import this host binds through glue only (${f.interface}#${f.name})`;
    if (d.options.encoding !== 'utf8') return `strings in ${d.options.encoding}`;
  }
  if (!handleLift(plan)) return `no ${HANDLE_EXPORT} or wasi:http/incoming-handler export`;
  return undefined;
}

/** Which handler a component exports: Enoki's, or wasi:http's (a fresh instance per request). */
export type HandlerKind = 'enoki' | 'http';

/** The canon lift of the handler: the core function's definition, its options and its kind. */
function handleLift(plan: ComponentPlan): { core: number; options: CanonOptions; kind: HandlerKind } | undefined {
  const aliases = new Map<number, string>();
  for (const d of plan.definitions) if (d.kind === 'core-alias' && d.sort === 'func') aliases.set(d.index, d.name);
  for (const f of plan.funcs) {
    if (f.kind !== 'lifted') continue;
    const name = aliases.get(f.core);
    if (name === HANDLE_EXPORT) return { core: f.core, options: f.options, kind: 'enoki' };
    if (name !== undefined && isHttpHandleExport(name)) return { core: f.core, options: f.options, kind: 'http' };
  }
  return undefined;
}

/** The handler kind of a linkable plan. */
export function handlerKind(plan: ComponentPlan): HandlerKind | undefined {
  return handleLift(plan)?.kind;
}

function memoryMissing(): never {
  throw new Error('the handler has no memory');
}

/**
 * Runs a module's start function, now that its data is in memory. Like any guest code the host
 * runs outside a call, it cannot give the event loop a turn: one that runs past the meter's
 * reentrantMs is stopped (a start function that loops held the node for good).
 */
function runStart(meter: Meter, start: () => void): void {
  try {
    meter.reenter(start);
  } catch (err) {
    if (!meter.reentrantTooLong) throw err;
    throw new LinkError(`the module's start function ran for more than ${meter.reentrantMs} ms, holding up every other call`);
  }
}

export class LinkError extends Error {
  constructor(
    message: string,
    readonly memory = false,
  ) {
    super(message);
  }
}

export interface InstanceOptions {
  memoryLimitPages: number;
  /** The function's environment, which start code may read too (start-host.ts). */
  env: [string, string][];
  sliceMs: number;
  /** Where a wasi:http instance's memories come from: zeroed ones of earlier instances. */
  memories?: MemoryShelf;
}

/** One instance of a component: one call at a time. */
export class GuestInstance {
  host?: GuestHost;
  /** Host resources (WASI streams, pollables) the guest holds handles of. */
  readonly handles: HandleTable;
  readonly meter: Meter;
  readonly memories: WebAssembly.Memory[] = [];
  readonly kind: HandlerKind;
  /**
   * Whether a call may run on the plain stack: an Enoki-world handler whose imports never wait
   * (no key-value, no calls, no polling). Such a call has no effect outside its instance and its
   * own log until it answers, so one stopped at the end of its time slice can be made again.
   */
  readonly mayRunOnStack: boolean;
  readonly #raw: (...args: unknown[]) => unknown;
  readonly #call: (...args: unknown[]) => Promise<unknown>;
  readonly #handle: ReturnType<typeof liftExport>;
  readonly #postReturn?: (ret: unknown) => void;
  /** What the instance's start code left for the first call's log; dropped once replayed. */
  #started?: StartHost;

  constructor(linkable: Linkable, options: InstanceOptions) {
    const { plan, cores } = linkable;
    const lift = handleLift(plan);
    if (!lift) throw new LinkError(`no ${HANDLE_EXPORT} or wasi:http/incoming-handler export`);
    const meter = new Meter(options.sliceMs);
    this.meter = meter;
    const instances: Record<string, unknown>[] = [];
    const handles = new HandleTable();
    this.handles = handles;
    const core: Record<CoreSort, unknown[]> = { func: [], table: [], memory: [], global: [], type: [], module: [], instance: [] };
    // While the instance is made, its start code gets a host of its own, made if it calls one
    // (a wasi:http guest is instantiated per request, and most start code calls nothing).
    let instantiating = true;
    const host = () => {
      if (this.host) return this.host;
      if (!instantiating) throw new Error('a host function was called outside of an invocation');
      return (this.#started ??= new StartHost(options.env, options.memoryLimitPages * 65536));
    };
    // One GuestMemory per memory and allocator the canon options name (a component names the same
    // pair for most of its hundreds of imports): an instance is made per request of a wasi:http
    // guest, and what it makes, the next collection has to go through.
    const guestMemories = new Map<string, GuestMemory>();
    const memoryOf = (options: CanonOptions, what: string) => {
      if (options.memory === undefined) return undefined;
      const index = options.memory;
      const realloc = options.realloc;
      const key = `${index}/${realloc ?? ''}`;
      const known = guestMemories.get(key);
      if (known) return known;
      const made = new GuestMemory(
        () => {
          const m = core.memory[index];
          if (!(m instanceof WebAssembly.Memory)) throw new Error(`${what}: its memory is not defined`);
          return m;
        },
        realloc === undefined
          ? undefined
          : (() => {
              // Made at the first allocation (the guest's core instances exist by then), then kept.
              let wrapped: ((a: number, b: number, c: number, d: number) => number) | undefined;
              return () => {
                if (!wrapped) {
                  const fn = core.func[realloc] as (a: number, b: number, c: number, d: number) => number;
                  wrapped = (a, b, c, d) => meter.reenter(() => fn(a, b, c, d));
                }
                return wrapped;
              };
            })(),
        handles,
      );
      guestMemories.set(key, made);
      return made;
    };

    let callLocal = true;
    for (const d of plan.definitions) {
      switch (d.kind) {
        case 'core-instance': {
          const prepared = cores[d.module];
          const imports: Record<string, Record<string, unknown>> = {};
          for (const arg of d.args) imports[arg.name] = instances[arg.instance];
          let fuel: WebAssembly.Global | undefined;
          if (prepared.metered) {
            const m = meter.imports(() => fuel);
            imports[METER_MODULE] = { [METER_CHECK]: m.check, [METER_SUSPEND]: m.suspend };
          }
          let memory: WebAssembly.Memory | undefined;
          if (prepared.memory) {
            const { initial, maximum } = prepared.memory;
            const max = Math.min(maximum ?? 65536, options.memoryLimitPages);
            if (initial > max) throw new LinkError(`the guest needs ${initial} pages of memory at start, above its limit of ${max}`, true);
            memory = options.memories ? options.memories.take(initial, max) : new WebAssembly.Memory({ initial, maximum: max });
            imports[MEMORY_MODULE] = { [MEMORY_IMPORT]: memory };
            this.memories.push(memory);
          }
          const instance = new WebAssembly.Instance(prepared.module, imports as WebAssembly.Imports);
          const exports = instance.exports;
          if (memory) {
            const bytes = new Uint8Array(memory.buffer);
            for (const segment of prepared.image()) {
              if (segment.offset + segment.bytes.length > bytes.length) throw new LinkError('a data segment lies outside the memory');
              bytes.set(segment.bytes, segment.offset);
            }
          }
          prepared.params.forEach((value, k) => ((exports[paramExport(k)] as WebAssembly.Global).value = value));
          if (prepared.metered) {
            fuel = exports[FUEL_EXPORT] as WebAssembly.Global;
            meter.track(fuel);
          }
          const start = exports[START_EXPORT] as (() => void) | undefined;
          if (start) runStart(meter, start);
          instances[d.index] = exports as Record<string, unknown>;
          break;
        }
        case 'core-exports': {
          const exports: Record<string, unknown> = {};
          for (const e of d.exports) exports[e.name] = core[e.sort][e.index];
          instances[d.index] = exports;
          break;
        }
        case 'core-alias': {
          const value = instances[d.instance]?.[d.name];
          if (value === undefined) throw new LinkError(`core instance ${d.instance} has no export ${d.name}`);
          core[d.sort][d.index] = value;
          break;
        }
        case 'lower': {
          const f = plan.funcs[d.func];
          const binding = f?.kind === 'imported' ? hostImport(f.interface, f.name) : undefined;
          if (!binding || f?.kind !== 'imported') throw new LinkError(`no binding for lowered function ${d.func}`);
          const mem =
            memoryOf(d.options, `${f.interface}#${f.name}`) ??
            new GuestMemory(
              () => {
                throw new Error(`${f.interface}#${f.name} has no memory`);
              },
              undefined,
              handles,
            );
          const fn = binding.raw ? () => binding.impl(host(), []) : lowerImport(binding.type, mem, (...args) => binding.impl(host(), args));
          const suspends = binding.suspends === true || (binding.suspends === 'http' && lift.kind === 'http');
          core.func[d.index] = suspends ? suspending(pausedWhileWaiting(meter, fn)) : fn;
          if (suspends || !CALL_LOCAL.test(f.interface)) callLocal = false;
          break;
        }
        case 'resource':
          if (d.op !== 'drop') throw new LinkError('resources of its own are not bound here');
          core.func[d.index] = (handle: number) => handles.drop(handle >>> 0);
          break;
      }
    }

    instantiating = false;
    this.kind = lift.kind;
    // wasi:http's handler takes two handles and returns nothing: it may name no memory.
    const mem = memoryOf(lift.options, 'the handler') ?? (lift.kind === 'http' ? new GuestMemory(() => memoryMissing(), undefined, handles) : undefined);
    if (!mem) throw new LinkError(`${HANDLE_EXPORT} has no memory`);
    this.#handle = liftExport(lift.kind === 'enoki' ? HANDLE_TYPE : HTTP_HANDLE_TYPE, mem);
    this.mayRunOnStack = lift.kind === 'enoki' && callLocal;
    this.#raw = core.func[lift.core] as (...args: unknown[]) => unknown;
    this.#call = promising(this.#raw as (...args: never[]) => unknown);
    const post = lift.options.postReturn === undefined ? undefined : (core.func[lift.options.postReturn] as (ret: unknown) => void);
    this.#postReturn = post && ((ret) => meter.reenter(() => post(ret)));
  }

  /** Runs one request of Enoki's world to its end; throws what the guest threw or trapped with. */
  handle(host: GuestHost, request: GuestRequest, deadline: number): Promise<HandleResult> {
    return this.call(host, [request], deadline) as Promise<HandleResult>;
  }

  /** Calls the handler with `args` (its WIT values) through JSPI and answers its lifted result. */
  async call(host: GuestHost, params: unknown[], deadline: number): Promise<unknown> {
    this.#begin(host);
    this.meter.begin(deadline);
    try {
      const args = this.meter.reenter(() => this.#handle.lowerArgs(params));
      this.meter.enter();
      let ret: unknown;
      try {
        ret = await this.#call(...args);
      } finally {
        this.meter.leave();
      }
      return this.#lift(ret);
    } finally {
      this.meter.end();
      this.host = undefined;
    }
  }

  /**
   * The same on the plain stack, to its end before it returns (only where mayRunOnStack): no JSPI,
   * no promise. A call that uses up its time slice traps with `meter.sliceUsed` set.
   */
  callOnStack(host: GuestHost, params: unknown[], deadline: number): unknown {
    if (!this.mayRunOnStack) throw new Error('this guest may wait: it cannot run on the plain stack');
    this.#begin(host);
    this.meter.begin(deadline);
    try {
      const args = this.meter.reenter(() => this.#handle.lowerArgs(params));
      this.meter.enter(true);
      let ret: unknown;
      try {
        ret = this.#raw(...args);
      } finally {
        this.meter.leave();
      }
      return this.#lift(ret);
    } finally {
      this.meter.end();
      this.host = undefined;
    }
  }

  #begin(host: GuestHost): void {
    this.host = host;
    if (this.#started) {
      this.#started.replay(host);
      this.#started = undefined;
    }
  }

  #lift(ret: unknown): unknown {
    const result = this.#handle.liftResult(ret);
    this.#postReturn?.(ret);
    return result;
  }

  memoryBytes(): number {
    return this.memories.reduce((sum, m) => sum + m.buffer.byteLength, 0);
  }
}

/** A host function a guest may wait on: while its promise is pending, the call's loop time stops. */
function pausedWhileWaiting(meter: Meter, fn: (...args: never[]) => unknown): (...args: never[]) => unknown {
  return (...args) => {
    const result = fn(...args);
    // Answered at once (a local read): the guest never suspended.
    if (!(result instanceof Promise)) return result;
    meter.pause();
    return result.finally(() => meter.resume());
  };
}
