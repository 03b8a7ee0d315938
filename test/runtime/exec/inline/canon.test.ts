// The canonical ABI as the inline engine flattens values: variants with payloads (results of
// resources and errors, wasi:http's error-code) join their cases' flat types position by
// position, as wit-component expects of a host. Checked against the signature wit-component
// generated for response-outparam.set, and by lowering values and lifting them back.
import { test } from '../../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { layout, T } from '../../../../runtime/exec/inline/canon.js';
import { GuestMemory } from '../../../../runtime/exec/inline/guest-memory.js';
import { HTTP_BINDINGS } from '../../../../runtime/exec/inline/http-world.js';

/** A guest memory of one page with a bump allocator, as a WAT guest's cabi_realloc is. */
function memory(): GuestMemory {
  const mem = new WebAssembly.Memory({ initial: 1 });
  let heap = 1024;
  return new GuestMemory(
    () => mem,
    () => (_old, _size, align, size) => {
      heap = Math.ceil(heap / align) * align;
      const at = heap;
      heap += size;
      return at;
    },
  );
}

function roundTrip(type: ReturnType<typeof T.variant>, value: unknown): { flat: unknown[]; back: unknown } {
  const mem = memory();
  const l = layout(type);
  const flat: unknown[] = [];
  l.lower(mem, value, flat);
  const [back, next] = l.lift(mem, flat, 0);
  assert.is(next, l.flat.length, 'lifting reads every flat value');
  return { flat, back };
}

test("response-outparam.set flattens as wit-component's own lowering of it", () => {
  const set = HTTP_BINDINGS['wasi:http/types']['[static]response-outparam.set'];
  const flat = set.type.params.flatMap((p) => layout(p).flat);
  // (param i32 i32 i32 i32 i64 i32 i32 i32 i32), from the component built of test/fixtures/worlds/hello.wat.
  assert.equal(flat, ['i32', 'i32', 'i32', 'i32', 'i64', 'i32', 'i32', 'i32', 'i32']);
});

test('a case whose i32 sits where the join has an i64 goes out zero-extended and comes back wrapped', () => {
  const v = T.variant([
    ['wide', T.u64],
    ['text', T.string],
    ['none', undefined],
  ]);
  assert.equal(layout(v).flat, ['i32', 'i64', 'i32']);
  const text = roundTrip(v, { tag: 'text', val: 'héllo' });
  assert.is(text.flat[0], 1);
  assert.is(typeof text.flat[1], 'bigint', 'the string pointer travels as an i64');
  assert.equal(text.back, { tag: 'text', val: 'héllo' });
  const wide = roundTrip(v, { tag: 'wide', val: 2n ** 40n });
  assert.equal(wide.flat, [0, 2n ** 40n, 0]);
  assert.equal(wide.back, { tag: 'wide', val: 2n ** 40n });
  const none = roundTrip(v, { tag: 'none' });
  assert.equal(none.flat, [2, 0n, 0], 'slots the case does not use are zero');
  assert.equal(none.back, { tag: 'none', val: undefined });
});

test('results and options nest: the error of a result of an error-code variant comes back whole', () => {
  const errorCode = HTTP_BINDINGS['wasi:http/types']['[static]response-outparam.set'].type.params[1];
  const mem = memory();
  const l = layout(errorCode);
  const value = { tag: 'err', val: { tag: 'internal-error', val: 'boom' } };
  const flat: unknown[] = [];
  l.lower(mem, value, flat);
  assert.equal(l.lift(mem, flat, 0)[0], value);
  // In memory as well as flat.
  l.store(mem, 64, value);
  assert.equal(l.load(mem, 64), value);
});

test('a discriminant past the cases traps', () => {
  const l = layout(T.variant([['a', T.u32], ['b', undefined]]));
  assert.throws(() => l.lift(memory(), [7, 0], 0), /invalid discriminant 7/);
});

test.run();
