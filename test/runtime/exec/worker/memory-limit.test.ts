// limitMemory: a guest's linear memory and tables cannot grow past their limits, and the
// rewritten module otherwise behaves exactly like the original.
import { parse } from '@bytecodealliance/jco';
import { test } from '../../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { TABLE_ELEMENTS } from '../../../../runtime/exec/wasm/module.js';
import { limitMemory, WASM_PAGE } from '../../../../runtime/exec/worker/memory-limit.js';

const LIMIT = 4;

/** A module with the given memory declaration, exporting grow/size and a data segment to read. */
function guest(memory: string): Promise<Uint8Array> {
  return parse(`(module
    ${memory}
    (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
    (func (export "size") (result i32) memory.size)
    (func (export "first") (result i32) i32.const 0 i32.load8_u)
    (data (i32.const 0) "E"))`);
}

interface Guest {
  grow(pages: number): number;
  size(): number;
  first(): number;
  mem?: WebAssembly.Memory;
}

function instantiate(bytes: Uint8Array): Guest {
  const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  return new WebAssembly.Instance(module).exports as unknown as Guest;
}

const exportsOf = (bytes: Uint8Array) => WebAssembly.Module.exports(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>));

for (const memory of ['(memory 1)', '(memory 1 10)', '(memory 1 1000)', '(memory (export "mem") 1)']) {
  test(`${memory}: growing past ${LIMIT} pages fails in the guest, growing within works`, async () => {
    const original = await guest(memory);
    const limited = limitMemory(original, LIMIT);
    assert.equal(exportsOf(limited), exportsOf(original));

    const g = instantiate(limited);
    assert.is(g.first(), 'E'.charCodeAt(0)); // sections after the memory section still apply
    assert.is(g.grow(10), -1);
    assert.is(g.size(), 1);
    assert.is(g.grow(3), 1);
    assert.is(g.size(), LIMIT);
    assert.is(g.grow(1), -1);
    if (g.mem) assert.is(g.mem.buffer.byteLength, LIMIT * WASM_PAGE);

    // The original, by contrast, could grow by 10 unless it declared less.
    if (memory !== '(memory 1 10)') assert.is(instantiate(original).grow(10), 1);
  });
}

test('a declared maximum below the limit is kept', async () => {
  const g = instantiate(limitMemory(await guest('(memory 1 2)'), LIMIT));
  assert.is(g.grow(2), -1);
  assert.is(g.grow(1), 1);
});

test('a large minimum that fits is kept (multi-byte LEB128)', async () => {
  const g = instantiate(limitMemory(await guest('(memory 200)'), 300));
  assert.is(g.size(), 200);
  assert.is(g.grow(101), -1);
  assert.is(g.grow(100), 200);
});

test('shared memory stays shared and gets the limit', async () => {
  const limited = limitMemory(await guest('(memory (export "mem") 1 10 shared)'), LIMIT);
  const g = instantiate(limited);
  assert.ok(g.mem!.buffer instanceof SharedArrayBuffer);
  assert.is(g.grow(4), -1);
  assert.is(g.grow(3), 1);
});

test('a module without a memory section is unchanged', async () => {
  const original = await parse('(module (func (export "answer") (result i32) i32.const 42))');
  const limited = limitMemory(original, LIMIT);
  assert.equal([...limited], [...original]);
  const { answer } = new WebAssembly.Instance(new WebAssembly.Module(limited as Uint8Array<ArrayBuffer>)).exports;
  assert.is((answer as () => number)(), 42);
});

test('an imported memory is left to whoever provides it', async () => {
  const original = await parse('(module (import "env" "mem" (memory 1)))');
  assert.equal([...limitMemory(original, LIMIT)], [...original]);
});

test('a module that needs more pages at start than the limit is refused with a clear error', async () => {
  const original = await guest('(memory 5)');
  assert.throws(() => limitMemory(original, LIMIT), /needs 5 pages of memory at start, above the limit of 4/);
});

test('tables grow within TABLE_ELEMENTS in all; their initializers and contents are kept', async () => {
  const original = await parse(`(module (memory 1)
    (type $t (func (result i32)))
    (func $seven (result i32) (i32.const 7))
    (table $a 2 funcref) (elem (table $a) (i32.const 1) func $seven)
    (table $b funcref (elem $seven $seven))
    (func (export "growA") (param i32) (result i32) (table.grow $a (ref.null func) (local.get 0)))
    (func (export "callA") (result i32) (call_indirect $a (type $t) (i32.const 1)))
    (func (export "sizeB") (result i32) (table.size $b)))`);
  const g = new WebAssembly.Instance(new WebAssembly.Module(limitMemory(original, LIMIT) as Uint8Array<ArrayBuffer>)).exports as unknown as Record<string, (n?: number) => number>;
  assert.is(g.callA(), 7);
  assert.is(g.sizeB(), 2);
  assert.is(g.growA(TABLE_ELEMENTS), -1);
  assert.is(g.growA(Math.floor((TABLE_ELEMENTS - 4) / 2)), 2);
  assert.is(g.callA(), 7);
  const huge = await parse(`(module (table ${TABLE_ELEMENTS + 1} funcref))`);
  assert.throws(() => limitMemory(huge, LIMIT), /tables hold \d+ elements at start, above the limit/);
});

test('a component or other non-module bytes are refused', async () => {
  const component = await parse('(component)');
  assert.throws(() => limitMemory(component, LIMIT), /not a core wasm module/);
});

test.run();
