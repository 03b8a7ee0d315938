// Which function entries a metered template checks (wasm/call-graph.ts). What a user notices: a
// guest whose code has no loop but runs without end (a recursion, a call tree that fans out, a
// cycle through the host or a table) still gives control back to the host and can be stopped,
// while small helper functions cost nothing extra.
import { parse } from '@bytecodealliance/jco';
import { test } from '../../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { entryChecks, readModuleFacts } from '../../../../runtime/exec/wasm/call-graph.js';
import { scanCode, type BodyFacts } from '../../../../runtime/exec/wasm/code.js';
import { FUEL_EXPORT, MEMORY_IMPORT, MEMORY_MODULE, METER_CHECK, METER_MODULE, METER_SUSPEND, ModuleReader, SECTION } from '../../../../runtime/exec/wasm/module.js';
import { prepareModule } from '../../../../runtime/exec/wasm/template.js';

type Exports = Record<string, (...args: number[]) => number>;

/**
 * Instantiates the metered template of `wat`, as the inline engine would, with fuel refilled to 10
 * at each host check. `stop()` makes every later check answer "trap". `env` may use the exports.
 */
async function metered(wat: string, env: (exports: () => Exports) => Record<string, unknown> = () => ({})) {
  const bytes = await parse(wat);
  const template = prepareModule(bytes, { meter: true, paramSites: [], dropData: true });
  let checks = 0;
  let stopped = false;
  let fuel: WebAssembly.Global | undefined;
  let exports: Exports = {};
  const instance = new WebAssembly.Instance(new WebAssembly.Module(template as Uint8Array<ArrayBuffer>), {
    env: env(() => exports) as WebAssembly.ModuleImports,
    [METER_MODULE]: {
      [METER_CHECK]: () => {
        checks++;
        if (fuel) fuel.value = 10;
        return stopped ? 1 : 0;
      },
      [METER_SUSPEND]: () => undefined,
    },
    [MEMORY_MODULE]: { [MEMORY_IMPORT]: new WebAssembly.Memory({ initial: 1 }) },
  });
  fuel = instance.exports[FUEL_EXPORT] as WebAssembly.Global;
  fuel.value = 10;
  exports = instance.exports as unknown as Exports;
  return {
    exports,
    checks: () => checks,
    stop: () => void (stopped = true),
  };
}

/** The checked entries of a module's defined functions, as 0s and 1s in order. */
async function entries(wat: string): Promise<number[]> {
  const m = new ModuleReader(await parse(wat));
  let bodies: BodyFacts[] = [];
  scanCode(m.contents(m.get(SECTION.code)!), {
    meter: { fuelGlobal: 0, slowFunc: 0, checkFunc: 0, suspendFunc: 0, entries: (b) => ((bodies = b), new Uint8Array(b.length)) },
  });
  return [...entryChecks(readModuleFacts(m), bodies)];
}

/** The call traps once the host says stop: it checked in with the host, though it has no loop. */
function stops(guest: { stop(): void }, run: () => unknown): void {
  guest.stop();
  assert.throws(run, (err: Error) => err instanceof WebAssembly.RuntimeError);
}

const FIB = `(module (memory 1)
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1))) (call $fib (i32.sub (local.get $n) (i32.const 2))))))))`;

test('a binary recursion without a loop checks in and can be stopped', async () => {
  const guest = await metered(FIB);
  assert.is(guest.exports.fib(20), 6765);
  // fib(20) makes 21,891 calls; with 10 fuel per host check, about 2,000 checks.
  assert.ok(guest.checks() >= 2000, `checks: ${guest.checks()}`);
  stops(guest, () => guest.exports.fib(60));
});

test('a mutual recursion, and a recursion through a table, check in too', async () => {
  const mutual = await metered(`(module (memory 1)
    (func $even (export "even") (param i32) (result i32)
      (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1)) (else (i32.add (call $odd (i32.sub (local.get 0) (i32.const 1))) (i32.const 0)))))
    (func $odd (param i32) (result i32)
      (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0)) (else (i32.add (call $even (i32.sub (local.get 0) (i32.const 1))) (i32.const 0))))))`);
  assert.is(mutual.exports.even(1000), 1);
  assert.ok(mutual.checks() >= 50, `checks: ${mutual.checks()}`);
  stops(mutual, () => mutual.exports.even(5000));

  const viaTable = await metered(`(module (memory 1)
    (type $t (func (param i32) (result i32)))
    (table 1 funcref)
    (elem (i32.const 0) func $fib)
    (func $fib (export "fib") (param $n i32) (result i32)
      (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
        (then (local.get $n))
        (else (i32.add
          (call_indirect (type $t) (i32.sub (local.get $n) (i32.const 1)) (i32.const 0))
          (call_indirect (type $t) (i32.sub (local.get $n) (i32.const 2)) (i32.const 0)))))))`);
  assert.is(viaTable.exports.fib(15), 610);
  assert.ok(viaTable.checks() >= 100, `checks: ${viaTable.checks()}`);
  stops(viaTable, () => viaTable.exports.fib(60));
});

test('a call tree without a cycle or a loop that fans out checks in', async () => {
  // $f0 calls $f1 twice, ..., $f39 is a leaf: 2^39 calls of $f39 for one call of $f0.
  const levels = Array.from({ length: 40 }, (_, i) =>
    i === 39 ? `(func $f39 (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))` : `(func $f${i} (param i32) (result i32) (i32.add (call $f${i + 1} (local.get 0)) (call $f${i + 1} (i32.const 0))))`,
  );
  const guest = await metered(`(module (memory 1) ${levels.join('\n')} (func (export "run") (result i32) (call $f0 (i32.const 0))))`);
  stops(guest, () => guest.exports.run());
  assert.ok(guest.checks() >= 1);
});

test('a cycle through the host checks in: a call that leaves the module may come back', async () => {
  // `again` is the host calling the module's own export: the module sees no cycle in its code.
  const guest = await metered(
    `(module
      (import "env" "again" (func $again (param i32) (result i32)))
      (memory 1)
      (func (export "down") (param $n i32) (result i32)
        (if (result i32) (i32.eqz (local.get $n)) (then (i32.const 1))
          (else (i32.add (call $again (i32.sub (local.get $n) (i32.const 1))) (call $again (i32.sub (local.get $n) (i32.const 1))))))))`,
    (exports) => ({ again: (n: number) => exports().down(n) }),
  );
  assert.is(guest.exports.down(10), 1024);
  assert.ok(guest.checks() >= 100, `checks: ${guest.checks()}`);
  stops(guest, () => guest.exports.down(60));
});

test('small helpers and functions that reach no cycle are left unchecked', async () => {
  // Functions in order: helper, mid (calls helper twice), recursive, sum (a loop calling mid).
  const wat = `(module (memory 1)
    (func $helper (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
    (func $mid (param i32) (result i32) (i32.add (call $helper (local.get 0)) (call $helper (i32.const 1))))
    (func $rec (param i32) (result i32) (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0)) (else (call $rec (i32.sub (local.get 0) (i32.const 1))))))
    (func (export "sum") (param $n i32) (result i32) (local $acc i32)
      (block $out (loop $top
        (br_if $out (i32.eqz (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (call $mid (local.get $n))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $top)))
      (i32.add (local.get $acc) (call $rec (i32.const 3)))))`;
  assert.equal(await entries(wat), [0, 0, 1, 0]);
  const guest = await metered(wat);
  assert.is(guest.exports.sum(1000), 1_504_500);
  // 1001 checks at the loop's top and four at the recursion's entry: with 10 fuel per host check, 100.
  assert.is(guest.checks(), 100);
});

test('a table or a reference shared with the host makes every indirect call a possible way out', async () => {
  const inner = `(type $t (func (param i32) (result i32)))
    (table $tab 1 funcref)
    (elem (i32.const 0) func $leaf)
    (func $leaf (param i32) (result i32) (local.get 0))
    (func $viaTable (param i32) (result i32) (call_indirect (type $t) (local.get 0) (i32.const 0)))`;
  assert.equal(await entries(`(module ${inner})`), [0, 0], 'the module keeps its table: only its own $leaf is a target');
  assert.equal(await entries(`(module ${inner} (export "tab" (table $tab)))`), [0, 1], 'an exported table may hold anything');
  assert.equal(await entries(`(module (import "env" "f" (func $f (param funcref))) ${inner})`), [0, 1], 'a funcref crosses the boundary');
  assert.equal(await entries(`(module (import "env" "g" (func $g (param i32) (result i32))) (elem declare func $g) ${inner})`), [0, 1], 'an import of that signature is referenced');
});

test('a body over the budget is checked at its entry; one under it is not', async () => {
  const straight = (name: string, n: number) => `(func $${name} (result i32) ${'(drop (i32.const 1)) '.repeat(n)} (i32.const 0))`;
  assert.equal(await entries(`(module ${straight('small', 100)} ${straight('large', 400)} (func (result i32) (i32.add (call $large) (call $large))))`), [0, 0, 1]);
});
