// The host side of the `kv` and `atomics` WIT interfaces for one invocation: reads see the
// backend plus the invocation's own uncommitted writes; writes collect in an overlay that commit()
// hands to the backend (the local replica applies it as one atomic batch; a remote replica item by
// item) before the response leaves the node. Atomic operations skip the overlay: the backend
// applies them at once and they go to replication at once. Every failure is a typed kv-error for
// the guest, never a trap.

import type { AppliedWrite, KeygroupInfo, LocalWrite, Version } from '../../replication/store/port.js';
import { validateAppendId, validateId, validateValue, validateVersion } from '../../replication/store/version.js';
import type { KvCall, KvReply } from '../exec/protocol.js';
import { addChecked, parseCounter } from './atomic-ops.js';
import type { KvBackend, KvSibling } from './kv-backend.js';
import { KvFault, toKvFault } from './kv-fault.js';

// Re-exported: the fault type is part of what this module's callers see.
export { KvFault, toKvFault, type KvErrorTag } from './kv-fault.js';

type Pending = { kind: 'set' | 'append'; value: string } | { kind: 'delete' };

export interface InvocationKvLimits {
  maxValueBytes: number;
  /** Sum of value bytes one invocation may write. */
  maxWriteBytes: number;
  /** Largest count a scan or keys call returns. */
  maxScanCount: number;
}

/** A version as the WIT `version` type: list<tuple<string, u64>>. */
type WitVersion = [string, bigint][];

function witVersion(sibling: KvSibling): WitVersion {
  return Object.entries(sibling.version)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([node, n]) => [node, BigInt(n)]);
}

/** A version given by the guest; `invalid-value` unless the store could keep it exactly. */
function storeVersion(version: WitVersion): Version {
  const entries = version.map(([node, n]): [string, number] => {
    if (typeof n !== 'bigint' || n > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new KvFault('invalid-value', `version counter ${String(n)} of node ${JSON.stringify(node)} is beyond any stored version`);
    }
    return [node, Number(n)];
  });
  const result: Version = Object.fromEntries(entries);
  if (Object.keys(result).length !== entries.length) {
    const twice = entries.find(([node], i) => entries.findIndex(([other]) => other === node) !== i)![0];
    throw new KvFault('invalid-value', `a version names node ${JSON.stringify(twice)} more than once`);
  }
  validateVersion(result);
  return result;
}

/**
 * Hands the writes of an atomic operation to replication, as the invoker does with a commit's.
 * It must not reject: the write is applied whatever replication makes of it.
 */
export type AppliedHook = (applied: AppliedWrite[]) => Promise<void>;

type MaybePromise<T> = T | Promise<T>;

/** Applies `f` to a value that may still be pending, staying synchronous when it is not. */
function then<A, B>(value: MaybePromise<A>, f: (a: A) => MaybePromise<B>): MaybePromise<B> {
  return value instanceof Promise ? value.then(f) : f(value);
}

const succeeded = (value: unknown): KvReply => ({ ok: true, value });

function failed(err: unknown): KvReply {
  const fault = toKvFault(err);
  return { ok: false, error: { tag: fault.tag, val: fault.message } };
}

export class InvocationKv {
  readonly #pending = new Map<string, Pending>();
  readonly #writes: LocalWrite[] = [];
  #writeBytes = 0;

  constructor(
    private readonly backend: KvBackend,
    private readonly keygroup: KeygroupInfo,
    private readonly limits: InvocationKvLimits,
    private readonly onAtomicWrite: AppliedHook = async () => undefined,
  ) {}

  get writeCount(): number {
    return this.#writes.length;
  }

  /**
   * Entry point for a guest's calls. Answers at once when the backend can (local reads, writes
   * to the overlay): a guest running inline then does not wait for the event loop.
   */
  handle(call: KvCall): KvReply | Promise<KvReply> {
    try {
      const value = this.#dispatch(call);
      return value instanceof Promise ? value.then(succeeded, failed) : succeeded(value);
    } catch (err) {
      return failed(err);
    }
  }

  #dispatch({ op, args }: KvCall): Promise<unknown> | unknown {
    switch (op) {
      case 'read':
        return this.read(args[0] as string);
      case 'get':
        return this.get(args[0] as string);
      case 'getMany':
        return this.getMany(args[0] as string[]);
      case 'set':
        return this.set(args[0] as string, args[1] as string);
      case 'setMany':
        return this.setMany(args[0] as { id: string; value: string }[]);
      case 'delete':
        return this.delete(args[0] as string);
      case 'scan':
        return this.scan(args[0] as string, Number(args[1]));
      case 'keys':
        return this.keys(args[0] as string, Number(args[1]));
      case 'append':
        return this.append(args[0] as bigint, args[1] as string);
      case 'increment':
        return this.increment(args[0] as string, args[1] as bigint);
      case 'compareAndSwap':
        return this.compareAndSwap(args[0] as string, args[1] as WitVersion[], args[2] as string);
      default:
        throw new KvFault('unavailable', `unknown key-value operation ${op}`);
    }
  }

  read(id: string): MaybePromise<{ id: string; value: string; version: WitVersion }[]> {
    validateId(id);
    const pending = this.#pending.get(id);
    // An uncommitted write has no version yet: it is assigned at commit.
    if (pending) return pending.kind === 'delete' ? [] : [{ id, value: pending.value, version: [] }];
    return then(this.#readMany([id]), ([siblings]) => siblings.map((s) => ({ id, value: s.value, version: witVersion(s) })));
  }

  get(id: string): MaybePromise<string | undefined> {
    return then(this.getMany([id]), (values) => values[0]);
  }

  getMany(ids: string[]): MaybePromise<(string | undefined)[]> {
    ids.forEach((id) => validateId(id));
    const missing = ids.filter((id) => !this.#pending.has(id));
    return then(missing.length > 0 ? this.#readMany(missing) : [], (stored) => {
      const fromStore = new Map(missing.map((id, i) => [id, stored[i][0]?.value]));
      return ids.map((id) => {
        const pending = this.#pending.get(id);
        if (pending) return pending.kind === 'delete' ? undefined : pending.value;
        return fromStore.get(id);
      });
    });
  }

  set(id: string, value: string): void {
    this.#requireMutable('set');
    validateId(id);
    this.#record(id, { kind: 'set', value });
  }

  setMany(entries: { id: string; value: string }[]): void {
    this.#requireMutable('set');
    let bytes = 0;
    for (const { id, value } of entries) {
      validateId(id);
      validateValue(value, this.limits.maxValueBytes);
      bytes += Buffer.byteLength(value);
    }
    // All or nothing: a refused call leaves no write behind.
    this.#checkBudget(bytes);
    for (const { id, value } of entries) this.#record(id, { kind: 'set', value });
  }

  delete(id: string): MaybePromise<void> {
    this.#requireMutable('delete');
    validateId(id);
    return then(this.#exists(id), (exists) => {
      if (!exists) throw new KvFault('not-found', `no item "${id}" to delete`);
      this.#record(id, { kind: 'delete' });
    });
  }

  append(id: bigint, value: string): MaybePromise<string> {
    if (this.keygroup.mutable) {
      throw new KvFault('wrong-mutability', `append needs an immutable keygroup; "${this.keygroup.name}" is mutable`);
    }
    const key = BigInt.asUintN(64, id).toString();
    validateAppendId(key);
    return then(this.#exists(key), (exists) => {
      if (exists) throw new KvFault('already-exists', `item "${key}" already exists`);
      this.#record(key, { kind: 'append', value });
      return key;
    });
  }

  /**
   * `atomics.increment`: applied at once. On an id with an uncommitted write of this invocation,
   * the sum is over that write's value (reads see own writes) and is applied in its place.
   */
  async increment(id: string, delta: bigint): Promise<bigint> {
    this.#requireMutable('increment');
    validateId(id);
    if (typeof delta !== 'bigint') throw new KvFault('invalid-value', `increment needs an s64 delta, got ${typeof delta}`);
    const pending = this.#pending.get(id);
    if (pending) {
      const value = addChecked(id, pending.kind === 'delete' ? 0n : parseCounter(id, pending.value), delta);
      await this.#applyOverPending(id, value.toString());
      return value;
    }
    const { value, applied } = await this.backend.increment(this.keygroup.name, id, delta);
    await this.#handOn(applied);
    return value;
  }

  /**
   * `atomics.compare-and-swap`: FReD's conditional update, applied at once. An uncommitted write
   * of this invocation is what `read` showed for the id: a value with the empty version, which
   * every non-empty `expected` covers, or (a pending delete) no item at all.
   */
  async compareAndSwap(id: string, expected: WitVersion[], value: string): Promise<boolean> {
    this.#requireMutable('compare-and-swap');
    validateId(id);
    validateValue(value, this.limits.maxValueBytes);
    if (!Array.isArray(expected)) throw new KvFault('invalid-value', 'expected must be a list of versions');
    const given = expected.map(storeVersion);
    const pending = this.#pending.get(id);
    if (pending) {
      if (pending.kind !== 'delete' && given.length === 0) return false;
      await this.#applyOverPending(id, value);
      return true;
    }
    const applied = await this.backend.compareAndSwap(this.keygroup.name, id, value, given);
    if (!applied) return false;
    await this.#handOn(applied);
    return true;
  }

  scan(start: string, count: number): MaybePromise<{ id: string; value: string }[]> {
    return this.#range(start, count, true);
  }

  keys(start: string, count: number): MaybePromise<string[]> {
    return then(this.#range(start, count, false), (items) => items.map((e) => e.id));
  }

  /**
   * Applies the overlay through the backend. Called once, after a successful call; returns the
   * writes this node applied itself and must hand to replication.
   */
  async commit(): Promise<AppliedWrite[]> {
    return this.#writes.length > 0 ? this.backend.commit(this.#writes) : [];
  }

  #range(start: string, count: number, withValues: boolean): MaybePromise<{ id: string; value: string }[]> {
    if (start !== '') validateId(start);
    const limit = Math.min(count, this.limits.maxScanCount);
    const pending = start === '' ? undefined : this.#pending.get(start);
    if (pending?.kind === 'delete') throw new KvFault('not-found', `scan start "${start}" does not exist`);
    if (limit <= 0) {
      if (start === '') return [];
      return then(this.#exists(start), (exists) => {
        if (!exists) throw new KvFault('not-found', `scan start "${start}" does not exist`);
        return [];
      });
    }
    // Deleted-but-uncommitted items may hide stored ones: ask the store for that many more.
    let hidden = 0;
    for (const p of this.#pending.values()) if (p.kind === 'delete') hidden++;
    // A start this invocation did not write must exist in the backend, which checks it with the
    // scan itself: one round trip, not two, when the keygroup is on another node.
    const request = { start, count: limit + hidden, startMustExist: start !== '' && pending === undefined };
    const name = this.keygroup.name;
    const stored = this.backend.scanSync?.(name, request) ?? this.backend.scan(name, request);
    return then(stored, (items) => this.#merged(items, start, limit, withValues));
  }

  /** Stored items overlaid with this invocation's uncommitted writes, in id order. */
  #merged(stored: { id: string; siblings: KvSibling[] }[], start: string, limit: number, withValues: boolean): { id: string; value: string }[] {
    const merged = new Map<string, string>();
    for (const item of stored) merged.set(item.id, item.siblings[0].value);
    for (const [id, p] of this.#pending) {
      if (id < start) continue;
      if (p.kind === 'delete') merged.delete(id);
      else merged.set(id, p.value);
    }
    const ids = [...merged.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, limit);
    return ids.map((id) => ({ id, value: withValues ? (merged.get(id) as string) : '' }));
  }

  /**
   * An atomic operation on an id this invocation has written: that write would have superseded
   * everything stored at commit, so the result is written the same way (unconditionally), now,
   * and the id leaves the overlay so that the commit does not put the older value back.
   */
  async #applyOverPending(id: string, value: string): Promise<void> {
    const applied = await this.backend.commit([{ kind: 'set', keygroup: this.keygroup.name, id, value }]);
    this.#pending.delete(id);
    for (let i = this.#writes.length - 1; i >= 0; i--) if (this.#writes[i].id === id) this.#writes.splice(i, 1);
    await this.#handOn(applied);
  }

  async #handOn(applied: AppliedWrite[]): Promise<void> {
    if (applied.length > 0) await this.onAtomicWrite(applied);
  }

  #exists(id: string): MaybePromise<boolean> {
    const pending = this.#pending.get(id);
    if (pending) return pending.kind !== 'delete';
    return then(this.#readMany([id]), ([siblings]) => siblings.length > 0);
  }

  /** Stored siblings, synchronously when the backend can read without waiting. */
  #readMany(ids: string[]): MaybePromise<KvSibling[][]> {
    const name = this.keygroup.name;
    return this.backend.readManySync ? this.backend.readManySync(name, ids) : this.backend.readMany(name, ids);
  }

  #requireMutable(op: string): void {
    if (!this.keygroup.mutable) {
      throw new KvFault('wrong-mutability', `${op} needs a mutable keygroup; "${this.keygroup.name}" is append-only`);
    }
  }

  #checkBudget(bytes: number): void {
    if (this.#writeBytes + bytes > this.limits.maxWriteBytes) {
      throw new KvFault('too-large', `the invocation would write more than ${this.limits.maxWriteBytes} bytes`);
    }
  }

  #record(id: string, pending: Pending): void {
    if (pending.kind !== 'delete') {
      validateValue(pending.value, this.limits.maxValueBytes);
      const bytes = Buffer.byteLength(pending.value);
      this.#checkBudget(bytes);
      this.#writeBytes += bytes;
    }
    this.#pending.set(id, pending);
    this.#writes.push(
      pending.kind === 'delete'
        ? { kind: 'delete', keygroup: this.keygroup.name, id }
        : { kind: pending.kind, keygroup: this.keygroup.name, id, value: pending.value },
    );
  }
}
