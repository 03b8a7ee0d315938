// The deploy-time rewrite that lets a worker hand a recycled, zeroed memory to each new instance
// of a wasi:http component: the module imports its memory instead of defining it, with its limits
// in the import's name, and behaves the same.
import { parse } from '@bytecodealliance/jco';
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { importDefinedMemory, parseRecycledMemoryField, RECYCLED_MEMORY_MODULE } from '../../../runtime/functions/recycled-memory.js';
import { MemoryRecycler } from '../../../runtime/exec/worker/worlds/memory-recycler.js';

const WAT = `(module
  (import "env" "f" (func $f (result i32)))
  (memory (export "memory") 2 10)
  (data (i32.const 16) "snapshot")
  (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))`;

test('a defined memory becomes an import naming its limits; data, exports and code stay', async () => {
  const rewritten = importDefinedMemory(await parse(WAT))!;
  assert.ok(rewritten);
  const module = new WebAssembly.Module(rewritten as Uint8Array<ArrayBuffer>);
  const memoryImport = WebAssembly.Module.imports(module).find((i) => i.kind === 'memory')!;
  assert.is(memoryImport.module, RECYCLED_MEMORY_MODULE);
  assert.equal(parseRecycledMemoryField(memoryImport.name), { min: 2, max: 10 });
  const recycler = new MemoryRecycler(5, 2);
  const first = recycler.importsFor(module)!;
  assert.is(first.memory.buffer.byteLength, 2 * 65536);
  const imports = { env: { f: () => 1 }, ...first.imports };
  const a = new WebAssembly.Instance(module, imports).exports as { peek(i: number): number; poke(i: number, v: number): void; memory: WebAssembly.Memory };
  assert.is(a.memory, first.memory, 'the memory is re-exported');
  assert.is(a.peek(16), 's'.charCodeAt(0), 'data segments are applied to it');
  a.poke(100, 7);
  // Given back, zeroed, then handed to the next instance, which finds a fresh memory.
  recycler.give(first.memory);
  const second = recycler.importsFor(module)!;
  assert.is(second.memory, first.memory, 'recycled');
  const b = new WebAssembly.Instance(module, { env: { f: () => 1 }, ...second.imports }).exports as { peek(i: number): number };
  assert.is(b.peek(100), 0, 'what the last instance wrote is gone');
  assert.is(b.peek(17), 'n'.charCodeAt(0));
  recycler.give(second.memory);
  recycler.give(second.memory);
  const c = recycler.importsFor(module)!;
  const d = recycler.importsFor(module)!;
  assert.is.not(c.memory, d.memory, 'a memory given back twice goes to one instance only');
});

test('a memory that grew is not recycled; the limit is the smaller of the module’s and the function’s', async () => {
  const module = new WebAssembly.Module(importDefinedMemory(await parse(WAT)) as Uint8Array<ArrayBuffer>);
  const recycler = new MemoryRecycler(4, 2);
  const { memory } = recycler.importsFor(module)!;
  assert.throws(() => memory.grow(3), 'the function limit of 4 pages applies');
  memory.grow(1);
  recycler.give(memory);
  assert.is.not(recycler.importsFor(module)!.memory, memory);
  assert.throws(() => new MemoryRecycler(1, 2).importsFor(module), /needs 2 pages/);
});

test('modules without a memory, with an imported one or several are left as they are', async () => {
  assert.is(importDefinedMemory(await parse('(module (func (export "f")))')), undefined);
  assert.is(importDefinedMemory(await parse('(module (import "m" "mem" (memory 1)))')), undefined);
  const noImports = importDefinedMemory(await parse('(module (type (func)) (memory 1) (func (type 0)))'))!;
  assert.ok(WebAssembly.validate(noImports as Uint8Array<ArrayBuffer>), 'an import section is added in its place');
});

test.run();
