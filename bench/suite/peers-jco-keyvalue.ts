// Gives `jco serve` a wasi:keyvalue@0.2.0-draft, which it does not have, so that the peers
// scenario can run the KV counter there too: an in-memory map of the serving process, shared by
// every instance (jco serve --isolate-requests instance makes one per request), nothing
// persisted. Loaded with `jco serve --jco-import`; it adds the interfaces to the import object
// preview2-shim's WASIShim hands each instance.

import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';

const data = new Map<string, Uint8Array>();

class Bucket {
  get(key: string): Uint8Array | undefined {
    return data.get(key);
  }
  set(key: string, value: Uint8Array): void {
    data.set(key, new Uint8Array(value));
  }
  delete(key: string): void {
    data.delete(key);
  }
  exists(key: string): boolean {
    return data.has(key);
  }
  listKeys(): { keys: string[]; cursor?: bigint } {
    return { keys: [...data.keys()] };
  }
}

function increment(_bucket: Bucket, key: string, delta: bigint): bigint {
  const current = data.get(key);
  const value = (current ? BigInt(new TextDecoder().decode(current)) : 0n) + delta;
  data.set(key, new TextEncoder().encode(value.toString()));
  return value;
}

const keyvalue = {
  'wasi:keyvalue/store': {
    Bucket,
    open(identifier: string) {
      if (identifier !== '' && identifier !== 'default') throw { tag: 'no-such-store' };
      return new Bucket();
    },
  },
  'wasi:keyvalue/atomics': { increment },
  'wasi:keyvalue/batch': {
    getMany: (_b: Bucket, keys: string[]) => keys.map((k) => (data.has(k) ? [k, data.get(k)] : undefined)),
    setMany: (_b: Bucket, pairs: [string, Uint8Array][]) => pairs.forEach(([k, v]) => data.set(k, new Uint8Array(v))),
    deleteMany: (_b: Bucket, keys: string[]) => keys.forEach((k) => data.delete(k)),
  },
};

const proto = WASIShim.prototype as unknown as { getImportObject(...args: unknown[]): Record<string, unknown> };
const original = proto.getImportObject;
proto.getImportObject = function (this: unknown, ...args: unknown[]) {
  return { ...original.apply(this, args), ...keyvalue };
};
