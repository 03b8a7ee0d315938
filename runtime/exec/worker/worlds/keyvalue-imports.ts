// The guest side of wasi:keyvalue@0.2.0-draft (store, atomics, batch) inside a guest worker. A
// bucket is a name for the function's keygroup; every operation is a KV call to the main thread,
// where kv/wasi-keyvalue.ts maps it onto the invocation's keygroup.

import { bucketOf, WASI_KEYVALUE_OPS } from '../../../kv/wasi-keyvalue-mapping.js';

/** Makes one KV call; throws `{ payload }` (the WIT error) when it failed. */
export type KvCaller = (op: string, args: unknown[]) => unknown;

const symbolDispose = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');

export function keyvalueImports(call: KvCaller): Record<string, Record<string, unknown>> {
  class Bucket {
    constructor(readonly name: string) {}
    get(key: string): unknown {
      return call(WASI_KEYVALUE_OPS.get, [key]);
    }
    set(key: string, value: Uint8Array): void {
      call(WASI_KEYVALUE_OPS.set, [key, new Uint8Array(value)]);
    }
    delete(key: string): void {
      call(WASI_KEYVALUE_OPS.delete, [key]);
    }
    exists(key: string): unknown {
      return call(WASI_KEYVALUE_OPS.exists, [key]);
    }
    listKeys(cursor: bigint | undefined): unknown {
      return call(WASI_KEYVALUE_OPS.listKeys, [cursor]);
    }
    [symbolDispose](): void {}
  }

  const open = (identifier: string) => {
    const name = bucketOf(identifier);
    if (name === undefined) throw { payload: { tag: 'no-such-store' } };
    return new Bucket(name);
  };

  return {
    'wasi:keyvalue/store': { Bucket, open },
    'wasi:keyvalue/atomics': {
      increment: (_bucket: Bucket, key: string, delta: bigint) => call(WASI_KEYVALUE_OPS.increment, [key, delta]),
    },
    'wasi:keyvalue/batch': {
      getMany: (_bucket: Bucket, keys: string[]) => call(WASI_KEYVALUE_OPS.getMany, [[...keys]]),
      setMany: (_bucket: Bucket, entries: [string, Uint8Array][]) =>
        void call(WASI_KEYVALUE_OPS.setMany, [entries.map(([k, v]) => [k, new Uint8Array(v)])]),
      deleteMany: (_bucket: Bucket, keys: string[]) => void call(WASI_KEYVALUE_OPS.deleteMany, [[...keys]]),
    },
  };
}
