// The host side of wasi:keyvalue@0.2.0-draft for one invocation, on top of its InvocationKv: the
// same keygroup, the same semantics as enoki:faas/kv (reads see the invocation's own writes;
// `set`/`delete` are committed atomically with the rest when the call succeeds; `increment` is
// applied at once, as enoki:faas/atomics), keys and values mapped as wasi-keyvalue-mapping.ts
// says. Errors are the WIT `error` variant: `access-denied` for a write to an append-only
// keygroup, `other` with the reason for the rest.

import type { KvCall, KvReply } from '../exec/protocol.js';
import type { InvocationKv } from './invocation-kv.js';
import { toKvFault } from './kv-fault.js';
import { decodeKey, decodeValue, encodeKey, encodeValue, KeyMappingError, WASI_KEYVALUE_OPS as OPS } from './wasi-keyvalue-mapping.js';

type MaybePromise<T> = T | Promise<T>;

const MAX_U64 = 2n ** 64n - 1n;
const MAX_S64 = 2n ** 63n - 1n;

/** The wasi:keyvalue error for a failure. */
function errorOf(err: unknown): { tag: string; val?: string } {
  if (err instanceof KeyMappingError) return { tag: 'other', val: `invalid key: ${err.message}` };
  const fault = toKvFault(err);
  if (fault.tag === 'wrong-mutability') return { tag: 'access-denied' };
  return { tag: 'other', val: `${fault.tag}: ${fault.message}` };
}

class Refused extends Error {}

export class WasiKeyvalue {
  /** list-keys cursors of this invocation: offset → the id the page at that offset starts with. */
  readonly #pages = new Map<bigint, string>();
  readonly #pageSize: number;

  constructor(
    private readonly kv: InvocationKv,
    maxScanCount: number,
  ) {
    // One more than a page is read, to know where the next one starts.
    this.#pageSize = Math.max(1, Math.min(1000, maxScanCount - 1));
  }

  handle(call: KvCall): KvReply | Promise<KvReply> {
    try {
      const value = this.#dispatch(call);
      return value instanceof Promise ? value.then((v) => ({ ok: true, value: v }), (err) => this.#failed(err)) : { ok: true, value };
    } catch (err) {
      return this.#failed(err);
    }
  }

  #failed(err: unknown): KvReply {
    if (err instanceof Refused) return { ok: false, error: { tag: 'other', val: err.message } };
    return { ok: false, error: errorOf(err) };
  }

  #dispatch({ op, args }: KvCall): unknown {
    switch (op) {
      case OPS.get:
        return this.get(args[0] as string);
      case OPS.set:
        return this.kv.set(encodeKey(args[0] as string), encodeValue(args[1] as Uint8Array));
      case OPS.delete:
        return this.delete(args[0] as string);
      case OPS.exists:
        return then(this.get(args[0] as string), (value) => value !== undefined);
      case OPS.listKeys:
        return this.listKeys(args[0] as bigint | undefined);
      case OPS.increment:
        return this.increment(args[0] as string, args[1] as bigint);
      case OPS.getMany:
        return this.getMany(args[0] as string[]);
      case OPS.setMany:
        return this.kv.setMany((args[0] as [string, Uint8Array][]).map(([key, value]) => ({ id: encodeKey(key), value: encodeValue(value) })));
      case OPS.deleteMany:
        return this.deleteMany(args[0] as string[]);
      default:
        throw new Refused(`unknown key-value operation ${op}`);
    }
  }

  get(key: string): MaybePromise<Uint8Array | undefined> {
    return then(this.kv.get(encodeKey(key)), (value) => (value === undefined ? undefined : decodeValue(value)));
  }

  getMany(keys: string[]): MaybePromise<([string, Uint8Array] | undefined)[]> {
    return then(this.kv.getMany(keys.map(encodeKey)), (values) =>
      values.map((value, i) => (value === undefined ? undefined : ([keys[i], decodeValue(value)] as [string, Uint8Array]))),
    );
  }

  /** Deleting a key that does not exist succeeds, as wasi:keyvalue says. */
  delete(key: string): MaybePromise<void> {
    const id = encodeKey(key);
    return then(this.kv.get(id), (value) => (value === undefined ? undefined : this.kv.delete(id)));
  }

  async deleteMany(keys: string[]): Promise<void> {
    for (const key of keys) await this.delete(key);
  }

  /**
   * wasi:keyvalue increments by a u64 and answers a u64; Enoki's counters are s64 (decimal text,
   * shared with enoki:faas/atomics). A delta past the s64 range is refused before anything is
   * written; a counter that is negative after the increment (an enoki:faas guest decremented it)
   * has been written but cannot be answered as a u64, and the call says so.
   */
  async increment(key: string, delta: bigint): Promise<bigint> {
    if (typeof delta !== 'bigint' || delta < 0n || delta > MAX_U64) throw new Refused('increment needs a u64 delta');
    if (delta > MAX_S64) throw new Refused(`delta ${delta} is beyond this store's signed 64-bit counters; nothing was written`);
    const value = await this.kv.increment(encodeKey(key), delta);
    if (value < 0n) throw new Refused(`the counter is now ${value}, which a u64 cannot carry (it was incremented)`);
    return value;
  }

  /**
   * Keys in id order, a page at a time; the cursor is the offset of the next page. Within an
   * invocation a page continues where the last one ended; a cursor from another invocation is
   * found again by walking from the first key (keys added or removed meanwhile shift it).
   */
  async listKeys(cursor: bigint | undefined): Promise<{ keys: string[]; cursor?: bigint }> {
    const offset = cursor ?? 0n;
    const start = offset === 0n ? '' : (this.#pages.get(offset) ?? (await this.#walk(offset)));
    if (start === undefined) return { keys: [] };
    let ids: string[];
    try {
      ids = await this.kv.keys(start, this.#pageSize + 1);
    } catch (err) {
      // The page's first key was deleted since: find the offset again from the start.
      if (toKvFault(err).tag !== 'not-found' || start === '') throw err;
      this.#pages.delete(offset);
      const again = await this.#walk(offset);
      if (again === undefined) return { keys: [] };
      ids = await this.kv.keys(again, this.#pageSize + 1);
    }
    const keys = ids.slice(0, this.#pageSize).map(decodeKey);
    if (ids.length <= this.#pageSize) return { keys };
    const next = offset + BigInt(this.#pageSize);
    this.#pages.set(next, ids[this.#pageSize]);
    return { keys, cursor: next };
  }

  /** The id at position `offset` in id order, or undefined when there are not that many. */
  async #walk(offset: bigint): Promise<string | undefined> {
    let skipped = 0n;
    let start = '';
    for (;;) {
      const ids = await this.kv.keys(start, this.#pageSize + 1);
      // After the first page, `start` (already counted) comes back first.
      const fresh = start === '' ? ids : ids.slice(1);
      if (fresh.length === 0) return undefined;
      if (skipped + BigInt(fresh.length) > offset) return fresh[Number(offset - skipped)];
      skipped += BigInt(fresh.length);
      start = fresh[fresh.length - 1];
    }
  }
}

function then<A, B>(value: MaybePromise<A>, f: (a: A) => MaybePromise<B>): MaybePromise<B> {
  return value instanceof Promise ? value.then(f) : f(value);
}
