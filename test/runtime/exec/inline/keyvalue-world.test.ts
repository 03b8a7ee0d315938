// wasi:keyvalue as the inline engine binds it: buckets are the function's one keygroup under ""
// and "default", each operation becomes the invocation's KV call with the values the guest passed
// copied out of its memory, and the host's answers and errors come back as the WIT results.
import { test } from '../../../helpers/suite.js';
import * as assert from 'uvu/assert';
import type { GuestHost } from '../../../../runtime/exec/inline/binding.js';
import { KEYVALUE_BINDINGS, keyvalueImport } from '../../../../runtime/exec/inline/keyvalue-world.js';
import type { KvCall, KvReply } from '../../../../runtime/exec/protocol.js';

/** A host whose KV calls are recorded and answered by `answer`. */
function hostAnswering(answer: (call: KvCall) => KvReply | Promise<KvReply>): { host: GuestHost; calls: KvCall[] } {
  const calls: KvCall[] = [];
  const host: GuestHost = {
    kv: (call) => (calls.push(call), answer(call)),
    log: () => undefined,
    output: () => undefined,
    env: () => [],
    memoryLimitBytes: 2 ** 20,
    maxBodyBytes: 0,
    invoke: () => Promise.reject(new Error('no calls here')),
  };
  return { host, calls };
}

const store = KEYVALUE_BINDINGS['wasi:keyvalue/store'];

function open(host: GuestHost, name: string): unknown {
  return (store.open.impl(host, [name]) as { tag: string; val: unknown }).val;
}

test('"" and "default" open the bucket; any other name is no-such-store', () => {
  const { host } = hostAnswering(() => ({ ok: true, value: undefined }));
  assert.is((store.open.impl(host, ['']) as { tag: string }).tag, 'ok');
  assert.is((store.open.impl(host, ['default']) as { tag: string }).tag, 'ok');
  assert.equal(store.open.impl(host, ['other']), { tag: 'err', val: { tag: 'no-such-store' } });
});

test('set sends a copy of the value: the guest may reuse its memory at once', () => {
  const { host, calls } = hostAnswering(() => ({ ok: true, value: undefined }));
  const guestBytes = new Uint8Array([1, 2, 3]);
  assert.equal(store['[method]bucket.set'].impl(host, [open(host, ''), 'k', guestBytes]), { tag: 'ok', val: undefined });
  guestBytes.fill(9);
  assert.equal(calls[0].args, ['k', new Uint8Array([1, 2, 3])]);
});

test('answers, errors and answers that come later map to the WIT result', async () => {
  const { host } = hostAnswering((call) =>
    call.op === 'keyvalue.get'
      ? { ok: true, value: new Uint8Array([7]) }
      : call.op === 'keyvalue.delete'
        ? { ok: false, error: { tag: 'access-denied' } }
        : Promise.resolve<KvReply>({ ok: true, value: 5n }),
  );
  const bucket = open(host, 'default');
  assert.equal(store['[method]bucket.get'].impl(host, [bucket, 'k']), { tag: 'ok', val: new Uint8Array([7]) });
  assert.equal(store['[method]bucket.delete'].impl(host, [bucket, 'k']), { tag: 'err', val: { tag: 'access-denied' } });
  const increment = KEYVALUE_BINDINGS['wasi:keyvalue/atomics'].increment.impl(host, [bucket, 'n', 2n]);
  assert.instance(increment, Promise);
  assert.equal(await increment, { tag: 'ok', val: 5n });
});

test('a handle that is not a bucket traps', () => {
  const { host } = hostAnswering(() => ({ ok: true, value: undefined }));
  assert.throws(() => store['[method]bucket.get'].impl(host, [{}, 'k']), /not a Bucket/);
});

test('only the draft version this node implements is bound', () => {
  assert.ok(keyvalueImport('wasi:keyvalue/store@0.2.0-draft', 'open'));
  assert.not.ok(keyvalueImport('wasi:keyvalue/store@0.2.0-draft2', 'open'));
  assert.not.ok(keyvalueImport('wasi:keyvalue/store', 'open'));
});

test.run();
