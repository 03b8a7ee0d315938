// Deploy-time checks: wrong uploads are refused with a code and a message that says what is wrong.
import { parse } from '@bytecodealliance/jco';
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { EnokiError } from '../../../runtime/errors.js';
import {
  checkComponentHeader,
  checkWorld,
  HANDLER_EXPORT,
  type InterfaceTypes,
  type WorldCheckInput,
} from '../../../runtime/functions/component-check.js';

function failure(action: () => void): EnokiError {
  try {
    action();
  } catch (err) {
    assert.instance(err, EnokiError);
    return err as EnokiError;
  }
  assert.unreachable('expected the check to fail');
  throw new Error('unreachable');
}

test('bytes that are not WebAssembly are ERR_NOT_WASM', () => {
  for (const bytes of [
    new TextEncoder().encode('<html>not a component</html>'),
    Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0),
    new Uint8Array(0),
    Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00), // the magic, cut short
  ]) {
    const err = failure(() => checkComponentHeader(bytes));
    assert.is(err.code, 'ERR_NOT_WASM');
    assert.is(err.status, 422);
  }
});

test('a core module is ERR_NOT_COMPONENT with a hint how to wrap it', async () => {
  const header = failure(() => checkComponentHeader(Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0)));
  assert.is(header.code, 'ERR_NOT_COMPONENT');
  assert.match(header.message, 'core WebAssembly module');
  const real = await parse('(module (func (export "f")))');
  assert.is(failure(() => checkComponentHeader(real)).code, 'ERR_NOT_COMPONENT');
});

test('an unknown binary layer is ERR_NOT_COMPONENT', () => {
  const err = failure(() => checkComponentHeader(Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 1, 0, 2, 0)));
  assert.is(err.code, 'ERR_NOT_COMPONENT');
  assert.match(err.message, 'layer 2');
});

test('a component header passes', async () => {
  checkComponentHeader(Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x00));
  checkComponentHeader(await parse('(component)'));
});

// Interface type text shaped as jco renders it (one file per interface).
const KV_TEXT = `/** @module Interface enoki:faas/kv@0.1.0 **/
export function get(id: string): string | undefined;
/**
 * Several \`set\`s in one call.
 */
export function set(id: string, value: string): void;
export function keys(start: string, count: number): Array<string>;
export type KvError = import('./enoki-faas-types.js').KvError;
`;
const HANDLER_TEXT = `/** @module Interface enoki:faas/handler@0.1.0 **/
export function handle(req: Request): Response;
export interface Request {
  method: string,
  body: Uint8Array,
}
export interface Response {
  status: number,
}
`;
const REFERENCE: InterfaceTypes = new Map([
  ['enoki:faas/kv@0.1.0', KV_TEXT],
  [HANDLER_EXPORT, HANDLER_TEXT],
]);

const GOOD: WorldCheckInput = {
  imports: ['enoki:faas/kv@0.1.0', 'enoki:faas/log@0.1.0', 'enoki:faas/types@0.1.0'],
  exports: [HANDLER_EXPORT],
  interfaceTypes: new Map(REFERENCE),
};

test('a component of the function world passes', () => {
  checkWorld(GOOD, REFERENCE);
  checkWorld({ ...GOOD, imports: [] }, REFERENCE);
});

test('every problem is listed: unsupported imports and the missing handler export', () => {
  const err = failure(() =>
    checkWorld(
      {
        imports: ['enoki:faas/kv@0.1.0', 'wasi:http/outgoing-handler@0.3.0', 'wasi:sockets/tcp@0.3.0'],
        exports: ['wasi:cli/run@0.2.0'],
        interfaceTypes: new Map(),
      },
      REFERENCE,
    ),
  );
  assert.is(err.code, 'ERR_WRONG_WORLD');
  assert.match(err.message, 'wasi:http/outgoing-handler@0.3.0 (this node provides WASI 0.2.x)');
  assert.match(err.message, 'wasi:sockets/tcp@0.3.0 (this node provides WASI 0.2.x)');
  assert.match(err.message, `missing export ${HANDLER_EXPORT}`);
  assert.match(err.message, 'wasi:cli/run@0.2.0');
  assert.not.match(err.message, 'enoki:faas/kv');
  const problems = err.details?.problems as string[];
  assert.is(problems.length, 2);
  assert.ok(problems.some((p) => p.includes('wasi:http/outgoing-handler')));
  assert.ok(problems.some((p) => p.includes(HANDLER_EXPORT)));
  // The details travel in the error body the client gets.
  assert.equal(err.toJSON().error.problems, problems);
});

test('a component that exports nothing says so', () => {
  const err = failure(() => checkWorld({ ...GOOD, exports: [] }, REFERENCE));
  assert.match(err.message, '(exports nothing)');
});

test('an Enoki interface with other types than the node’s is reported, each function by name', () => {
  const other = KV_TEXT.replace('get(id: string)', 'get(id: number)').replace('keys(start', 'list(start');
  const interfaceTypes = new Map(REFERENCE).set('enoki:faas/kv@0.1.0', other);
  const err = failure(() => checkWorld({ ...GOOD, interfaceTypes }, REFERENCE));
  assert.is(err.code, 'ERR_WRONG_WORLD');
  assert.equal(err.details?.problems, [
    'interface enoki:faas/kv@0.1.0 has different types than Enoki\'s (built against another wit/ version?): function get has another type, function list is not Enoki\'s',
  ]);
});

test('an imported Enoki interface may hold only some of its functions, as toolchains leave the others out', () => {
  // A Rust guest calling only `get`: its component's kv interface has get and the error type.
  const onlyGet = KV_TEXT.replace(/\/\*\*\n[^]*?keys\(start: string, count: number\): Array<string>;\n/, '');
  assert.ok(!onlyGet.includes('set(') && onlyGet.includes('get(id: string)'), onlyGet);
  checkWorld({ ...GOOD, interfaceTypes: new Map(REFERENCE).set('enoki:faas/kv@0.1.0', onlyGet) }, REFERENCE);
  // Comments, blank lines and trailing spaces are not types.
  const reworded = KV_TEXT.replace('Several `set`s in one call.', 'Other words.').replace(/;\n/g, ';  \n\n');
  checkWorld({ ...GOOD, interfaceTypes: new Map(REFERENCE).set('enoki:faas/kv@0.1.0', reworded) }, REFERENCE);
});

test('an exported Enoki interface must be whole: a missing function or another record is reported', () => {
  const missing = HANDLER_TEXT.replace('export function handle(req: Request): Response;\n', '');
  const err = failure(() => checkWorld({ ...GOOD, interfaceTypes: new Map(REFERENCE).set(HANDLER_EXPORT, missing) }, REFERENCE));
  assert.match(err.message, `interface ${HANDLER_EXPORT} has different types than Enoki's`);
  assert.match(err.message, 'function handle is missing');
  const otherRecord = HANDLER_TEXT.replace('status: number', 'status: string');
  const other = failure(() => checkWorld({ ...GOOD, interfaceTypes: new Map(REFERENCE).set(HANDLER_EXPORT, otherRecord) }, REFERENCE));
  assert.match(other.message, 'type Response has another type');
});

test('a wasi:http/proxy component of any 0.2.x passes as that world, with wasi:keyvalue 0.2.0-draft', () => {
  const world = checkWorld(
    {
      imports: ['wasi:http/types@0.2.10', 'wasi:http/outgoing-handler@0.2.10', 'wasi:io/streams@0.2.12', 'wasi:cli/terminal-stdout@0.2.12', 'wasi:filesystem/preopens@0.2.0', 'wasi:keyvalue/store@0.2.0-draft', 'wasi:keyvalue/atomics@0.2.0-draft'],
      exports: ['wasi:http/incoming-handler@0.2.10'],
      interfaceTypes: new Map(),
    },
    REFERENCE,
  );
  assert.is(world, 'wasi:http/proxy');
  assert.is(checkWorld(GOOD, REFERENCE), 'enoki:faas/function');
  assert.is(checkWorld({ ...GOOD, imports: [...GOOD.imports, 'wasi:keyvalue/batch@0.2.0-draft'] }, REFERENCE), 'enoki:faas/function');
});

test('other versions are refused with the reason: another wasi:keyvalue draft, WASI 0.3, a 0.2 release candidate', () => {
  const err = failure(() =>
    checkWorld(
      {
        imports: ['wasi:keyvalue/store@0.2.0-draft2', 'wasi:io/streams@0.3.0', 'wasi:http/types@0.2.0-rc-2023-11-10'],
        exports: ['wasi:http/incoming-handler@0.2.0'],
        interfaceTypes: new Map(),
      },
      REFERENCE,
    ),
  );
  assert.is(err.code, 'ERR_WRONG_WORLD');
  assert.match(err.message, 'wasi:keyvalue/store@0.2.0-draft2 (this node implements wasi:keyvalue@0.2.0-draft)');
  assert.match(err.message, 'wasi:io/streams@0.3.0 (this node provides WASI 0.2.x)');
  assert.match(err.message, 'wasi:http/types@0.2.0-rc-2023-11-10');
  assert.is(err.details?.world, 'wasi:http/proxy');
});

test('outgoing HTTP is for both worlds, incoming only for wasi:http; an incoming-handler of WASI 0.3 is no known world', () => {
  // What componentize-js builds into a JS guest of Enoki's world by default, for fetch.
  assert.is(checkWorld({ ...GOOD, imports: [...GOOD.imports, 'wasi:http/types@0.2.10', 'wasi:http/outgoing-handler@0.2.10'] }, REFERENCE), 'enoki:faas/function');
  const incoming = failure(() => checkWorld({ ...GOOD, imports: [...GOOD.imports, 'wasi:http/incoming-handler@0.2.10'] }, REFERENCE));
  assert.match(incoming.message, 'imports not provided by this node: wasi:http/incoming-handler@0.2.10');
  const p3 = failure(() => checkWorld({ imports: [], exports: ['wasi:http/handler@0.3.0'], interfaceTypes: new Map() }, REFERENCE));
  assert.match(p3.message, 'wasi:http/incoming-handler@0.2.x');
});

test.run();
