// wasi:keyvalue@0.2.0-draft (store, atomics, batch) as this host binds it for guests on the event
// loop: a bucket names the function's keygroup, and every operation is a KV call of the running
// invocation, which kv/wasi-keyvalue.ts maps onto that keygroup (the same calls a worker makes).

import { KEYVALUE_VERSION } from '../../functions/worlds.js';
import { bucketOf, WASI_KEYVALUE_OPS as OPS } from '../../kv/wasi-keyvalue-mapping.js';
import type { KvReply } from '../protocol.js';
import { as, err, ok, type Binding } from './binding.js';
import { T, type ValType } from './canon.js';

class Bucket {}

const error = T.variant([['no-such-store', undefined], ['access-denied', undefined], ['other', T.string]]);
const bytes = T.list(T.u8);
const keyResponse = T.record([['keys', T.list(T.string)], ['cursor', T.option(T.u64)]]);

const answer = (reply: KvReply) => (reply.ok ? ok(reply.value) : err(reply.error));

/**
 * A bucket operation: its arguments after the bucket, mapped by `args` (values lifted from guest
 * memory are copied there) into the KV call's.
 */
function op(name: string, params: ValType[], result: ValType | undefined, args: (values: unknown[]) => unknown[] = (v) => v): Binding {
  return {
    type: { params: [T.borrow, ...params], result: T.result(result, error) },
    suspends: true,
    impl(host, [bucket, ...rest]) {
      as(Bucket, bucket);
      const reply = host.kv({ op: name, args: args(rest) });
      return reply instanceof Promise ? reply.then(answer) : answer(reply);
    },
  };
}

const copyEntries = (entries: unknown) => (entries as [string, Uint8Array][]).map(([k, v]) => [k, new Uint8Array(v)]);

export const KEYVALUE_BINDINGS: Record<string, Record<string, Binding>> = {
  'wasi:keyvalue/store': {
    open: {
      type: { params: [T.string], result: T.result(T.own, error) },
      suspends: false,
      impl: (_h, [identifier]) => (bucketOf(identifier as string) === undefined ? err({ tag: 'no-such-store' }) : ok(new Bucket())),
    },
    '[method]bucket.get': op(OPS.get, [T.string], T.option(bytes)),
    '[method]bucket.set': op(OPS.set, [T.string, bytes], undefined, ([key, value]) => [key, new Uint8Array(value as Uint8Array)]),
    '[method]bucket.delete': op(OPS.delete, [T.string], undefined),
    '[method]bucket.exists': op(OPS.exists, [T.string], T.bool),
    '[method]bucket.list-keys': op(OPS.listKeys, [T.option(T.u64)], keyResponse),
  },
  'wasi:keyvalue/atomics': {
    increment: op(OPS.increment, [T.string, T.u64], T.u64),
  },
  'wasi:keyvalue/batch': {
    'get-many': op(OPS.getMany, [T.list(T.string)], T.list(T.option(T.tuple(T.string, bytes)))),
    'set-many': op(OPS.setMany, [T.list(T.tuple(T.string, bytes))], undefined, ([entries]) => [copyEntries(entries)]),
    'delete-many': op(OPS.deleteMany, [T.list(T.string)], undefined),
  },
};

/** The binding of a wasi:keyvalue function, at the one draft version this node implements. */
export function keyvalueImport(iface: string, name: string): Binding | undefined {
  const [bare, version] = iface.split('@');
  return version === KEYVALUE_VERSION ? KEYVALUE_BINDINGS[bare]?.[name] : undefined;
}
