// Templates of core modules (wasm/module.ts): a rewritten module behaves exactly like the
// original — calls through exports, tables, element segments, start functions and globals still
// reach the right functions after the metering imports shift every index — while its loops and
// calls now check in with the host, its memory is the host's and its data is an image.
import { parse } from '@bytecodealliance/jco';
import { test } from '../../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { analyzeModule, coalesceImage, dataImage, FUEL_EXPORT, TABLE_ELEMENTS, MEMORY_IMPORT, MEMORY_MODULE, METER_CHECK, METER_MODULE, METER_SUSPEND, paramExport, START_EXPORT, type DataImage } from '../../../../runtime/exec/wasm/module.js';
import { prepareModule } from '../../../../runtime/exec/wasm/template.js';

const WAT = `(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (import "env" "g" (global $g i32))
  (memory (export "mem") 2 10)
  (table $t 3 funcref)
  (elem (table $t) (i32.const 0) func $double $triple $add)
  (elem declare func $triple)
  (global $counter (mut i32) (i32.const 0))
  (global $ref funcref (ref.func $double))
  (type $unary (func (param i32) (result i32)))
  (data (i32.const 16) "hello")
  (data (i32.const 100) "world")
  (func $double (param i32) (result i32) local.get 0 i32.const 2 i32.mul)
  (func $triple (param i32) (result i32) local.get 0 i32.const 3 i32.mul)
  (func $start global.get $g global.set $counter)
  (start $start)
  (func (export "viaTable") (param i32 i32) (result i32) local.get 1 local.get 0 call_indirect $t (type $unary))
  (func (export "direct") (param i32) (result i32) local.get 0 call $triple)
  (func (export "imported") (param i32) (result i32) local.get 0 local.get 0 call $add)
  (func (export "byRef") (param i32) (result i32)
    (table.set $t (i32.const 2) (ref.func $triple))
    local.get 0 i32.const 2 call_indirect $t (type $unary))
  (func (export "counter") (result i32) global.get $counter)
  (func (export "big") (result i64) i64.const 1234567890123)
  (func (export "other") (result i64) i64.const 42)
  (func (export "sum") (param $n i32) (result i32) (local $acc i32)
    (block $out (loop $top
      (br_if $out (i32.eqz (local.get $n)))
      (local.set $acc (i32.add (local.get $acc) (local.get $n)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $top)))
    local.get $acc)
  (func (export "byte") (param i32) (result i32) local.get 0 i32.load8_u))`;

interface Exports {
  viaTable(i: number, x: number): number;
  direct(x: number): number;
  imported(x: number): number;
  byRef(x: number): number;
  counter(): number;
  big(): bigint;
  other(): bigint;
  sum(n: number): number;
  byte(p: number): number;
}

const env = { env: { add: (a: number, b: number) => a + b, g: new WebAssembly.Global({ value: 'i32' }, 7) } };

function original(bytes: Uint8Array): Exports {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), env).exports as unknown as Exports;
}

/** Instantiates a template the way the inline engine does, counting the host checks. */
function fromTemplate(bytes: Uint8Array, options: { dropData: boolean; paramSites: number[]; params?: bigint[]; checkAnswer?: () => number }) {
  const template = prepareModule(bytes, { meter: true, ...options });
  const analysis = analyzeModule(bytes);
  const memory = new WebAssembly.Memory({ initial: analysis.memory!.initial, maximum: 4 });
  let checks = 0;
  let fuel: WebAssembly.Global | undefined;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(template as Uint8Array<ArrayBuffer>), {
    ...env,
    [METER_MODULE]: {
      [METER_CHECK]: () => {
        checks++;
        if (fuel) fuel.value = 10;
        return options.checkAnswer?.() ?? 0;
      },
      [METER_SUSPEND]: () => undefined,
    },
    [MEMORY_MODULE]: { [MEMORY_IMPORT]: memory },
  });
  fuel = instance.exports[FUEL_EXPORT] as WebAssembly.Global;
  fuel.value = 10;
  for (const segment of dataImage(bytes)) new Uint8Array(memory.buffer).set(segment.bytes, segment.offset);
  (options.params ?? []).forEach((v, k) => ((instance.exports[paramExport(k)] as WebAssembly.Global).value = v));
  // The start function is the host's to run, after the data and parameters are in place.
  (instance.exports[START_EXPORT] as (() => void) | undefined)?.();
  return { exports: instance.exports as unknown as Exports, checks: () => checks, memory };
}

test('a metered template computes exactly what the original does', async () => {
  const bytes = await parse(WAT);
  const a = original(bytes);
  for (const dropData of [false, true]) {
    const b = fromTemplate(bytes, { dropData, paramSites: [] }).exports;
    assert.is(b.viaTable(0, 5), a.viaTable(0, 5));
    assert.is(b.viaTable(1, 5), a.viaTable(1, 5));
    assert.is(b.direct(4), 12);
    assert.is(b.imported(4), 8);
    assert.is(b.byRef(5), 15);
    assert.is(b.viaTable(2, 5), 15, 'ref.func stored a reference to the right function');
    assert.is(b.counter(), 7, 'the start function ran and reached the right function');
    assert.is(b.big(), 1234567890123n);
    assert.is(b.sum(100), 5050);
    assert.is(String.fromCharCode(b.byte(16), b.byte(17)), 'he', 'data written as an image');
    assert.is(b.byte(100), 'w'.charCodeAt(0));
  }
});

test('loops and calls check in with the host, and a trap answer ends the call', async () => {
  const bytes = await parse(WAT);
  const t = fromTemplate(bytes, { dropData: true, paramSites: [] });
  const before = t.checks();
  assert.is(t.exports.sum(1000), 500500);
  // 1000 loop iterations with fuel refilled to 10 at each check: about a hundred checks.
  assert.ok(t.checks() - before >= 90, `checks: ${t.checks() - before}`);
  let stop = false;
  const trapping = fromTemplate(bytes, { dropData: true, paramSites: [], checkAnswer: () => (stop ? 1 : 0) });
  stop = true;
  assert.throws(() => trapping.exports.sum(1_000_000), (err: Error) => err instanceof WebAssembly.RuntimeError);
});

test('a cycle of tail calls, which has no loop, is checked too', async () => {
  const bytes = await parse(`(module (memory 1)
    (func $ping (param i32) (result i32) (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 7)) (else (return_call $pong (i32.sub (local.get 0) (i32.const 1))))))
    (func $pong (param i32) (result i32) (return_call $ping (local.get 0)))
    (func (export "run") (param i32) (result i32) (call $ping (local.get 0))))`);
  let stop = false;
  const t = fromTemplate(bytes, { dropData: true, paramSites: [], checkAnswer: () => (stop ? 1 : 0) });
  const run = (t.exports as unknown as { run(n: number): number }).run;
  assert.is(run(1000), 7);
  assert.ok(t.checks() >= 100, `checks: ${t.checks()}`);
  stop = true;
  assert.throws(() => run(1_000_000), (err: Error) => err instanceof WebAssembly.RuntimeError);
});

test('chosen i64 constants become per-instance parameters', async () => {
  const bytes = await parse(WAT);
  const analysis = analyzeModule(bytes);
  assert.equal([...analysis.i64Consts], [1234567890123n, 42n]);
  const t = fromTemplate(bytes, { dropData: true, paramSites: [0], params: [99n] });
  assert.is(t.exports.big(), 99n);
  assert.is(t.exports.other(), 42n);
});

test('modules that differ only in data and i64 constants share a loose key; other changes do not', async () => {
  const a = analyzeModule(await parse(WAT));
  const b = analyzeModule(await parse(WAT.replace('"hello"', '"other data, longer"').replace('1234567890123', '7')));
  const c = analyzeModule(await parse(WAT.replace('i32.const 3 i32.mul', 'i32.const 4 i32.mul')));
  assert.is(a.looseKey, b.looseKey);
  assert.is.not(a.looseKey, c.looseKey);
  assert.ok(a.dropData);
});

test('the host sizes the memory: growing past its maximum fails in the guest', async () => {
  const bytes = await parse(`(module (memory 1) (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))`);
  const template = prepareModule(bytes, { meter: true, paramSites: [], dropData: true });
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 3 });
  const { grow } = new WebAssembly.Instance(new WebAssembly.Module(template as Uint8Array<ArrayBuffer>), {
    [METER_MODULE]: { [METER_CHECK]: () => 0, [METER_SUSPEND]: () => undefined },
    [MEMORY_MODULE]: { [MEMORY_IMPORT]: memory },
  }).exports as { grow(n: number): number };
  assert.is(grow(5), -1);
  assert.is(grow(2), 1);
  assert.is(grow(1), -1);
});

test('malformed input is refused with a format error, not a crash', async () => {
  assert.throws(() => prepareModule(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 10, 5, 1, 3, 0, 0xff), { meter: true, paramSites: [], dropData: true }));
  assert.ok(analyzeModule(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 10, 4, 1, 2, 0, 0xfb)).unsupported);
});

/** A memory of `size` zeros with the image's segments written into it in order, as an instance's. */
function written(image: DataImage[], size: number): Uint8Array {
  const memory = new Uint8Array(size);
  for (const s of image) memory.set(s.bytes, s.offset);
  return memory;
}

/** Deterministic pseudo-random numbers (a linear congruential generator), so a failure repeats. */
function numbers(seed: number): (below: number) => number {
  let x = seed;
  return (below) => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x % below;
  };
}

test('a coalesced image writes the same memory in fewer segments', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const next = numbers(seed);
    const image: DataImage[] = [];
    let at = next(100);
    for (let n = 1 + next(200); n > 0; n--) {
      const bytes = Uint8Array.from({ length: 1 + next(64) }, () => next(256));
      image.push({ offset: at, bytes });
      // Mostly small gaps (a wizer image), now and then one wider than the limit, or none at all.
      at += bytes.length + (next(10) === 0 ? 4097 + next(10_000) : next(300));
    }
    const coalesced = coalesceImage(image);
    assert.equal(written(coalesced, at + 1), written(image, at + 1), `seed ${seed}`);
    assert.ok(coalesced.length <= image.length, `seed ${seed}`);
    // No two segments left that the limit would have joined.
    for (let i = 1; i < coalesced.length; i++) assert.ok(coalesced[i].offset - (coalesced[i - 1].offset + coalesced[i - 1].bytes.length) > 4096, `seed ${seed}`);
  }
});

test('tables grow within TABLE_ELEMENTS in all, which the memory cap does not count', async () => {
  const grows = (table: string) => `(func (export "grow${table}") (param i32) (result i32) (table.grow $${table} (ref.null func) (local.get 0)))`;
  const bytes = await parse(`(module (memory 1)
    (table $a 10 funcref) (table $b 10 20 funcref) (table $c 0 funcref)
    ${grows('a')} ${grows('b')} ${grows('c')}
    (func (export "size") (result i32) (i32.add (i32.add (table.size $a) (table.size $b)) (table.size $c))))`);
  const plain = original(bytes) as unknown as Record<string, (n: number) => number>;
  assert.is(plain.growa(TABLE_ELEMENTS), 10, 'the original grows past the cap');
  const t = fromTemplate(bytes, { dropData: true, paramSites: [] }).exports as unknown as Record<string, (n?: number) => number>;
  assert.is(t.growb(10), 10, 'a declared maximum is kept');
  assert.is(t.growb(1), -1);
  const share = Math.floor((TABLE_ELEMENTS - 20) / 3);
  assert.is(t.growa(share), 10, 'each table may grow by its share');
  assert.is(t.growa(1), -1, 'and no further');
  assert.is(t.growc(share + 1), -1);
  assert.is(t.growc(share), 0);
  assert.ok(t.size() <= TABLE_ELEMENTS);
  // Tables of more than the cap from the start cannot be a template: the module runs on a worker.
  assert.match(analyzeModule(await parse(`(module (table ${TABLE_ELEMENTS + 1} funcref))`)).unsupported ?? '', /tables of more than/);
});

test('a data image of a module in thousands of neighbouring segments becomes a few', async () => {
  const segments = Array.from({ length: 2000 }, (_, i) => `(data (i32.const ${i * 40}) "segment ${String(i).padStart(4, '0')}")`).join(' ');
  const bytes = await parse(`(module (memory 2) ${segments})`);
  const image = dataImage(bytes);
  assert.is(image.length, 2000);
  const coalesced = coalesceImage(image);
  assert.is(coalesced.length, 1);
  assert.equal(written(coalesced, 2 * 65536), written(image, 2 * 65536));
});

test('an image whose segments overlap or run backwards is left as it is', () => {
  const a = { offset: 0, bytes: Uint8Array.of(1, 1, 1, 1) };
  const b = { offset: 2, bytes: Uint8Array.of(2, 2) };
  const c = { offset: 10, bytes: Uint8Array.of(3) };
  const overlapping = [a, b, c];
  assert.is(coalesceImage(overlapping), overlapping);
  // Joining c and a here would write zeros over b's bytes at 2 and 3.
  const backwards = [b, c, { offset: 0, bytes: Uint8Array.of(1, 1) }];
  assert.is(coalesceImage(backwards), backwards);
  assert.equal(coalesceImage([]), []);
});

test.run();
