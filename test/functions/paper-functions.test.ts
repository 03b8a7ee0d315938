// The ports of the paper's benchmark functions (integer, read, write, replication), run in-process
// through jco with a Map-backed KV: same inputs and answers as the originals, the KV operations
// they make, and the original's bug the integer port fixes.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transpile } from '@bytecodealliance/jco';
import { suite } from '../helpers/suite.js';
import { createWasiHost } from '../../runtime/exec/worker/wasi.js';
import * as assert from 'uvu/assert';

const noCalls = (): never => {
  throw { payload: { tag: 'unavailable', val: 'calls between functions are not served here' } };
};

const ROOT = fileURLToPath(new URL('../../../', import.meta.url)); // from dist/test/functions/
const BUILD = path.join(ROOT, 'functions', 'build');

interface Response {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}
interface Handler {
  handle(req: { method: string; path: string; query: string; headers: [string, string][]; body: Uint8Array }): Response;
}

/** The WIT's semantics for the calls these functions make; `siblings` fakes concurrent writes. */
class MemoryKv {
  readonly data = new Map<string, string[]>();
  readonly calls: string[] = [];
  private check(id: string): void {
    if (!/^[a-zA-Z0-9]+$/.test(id)) throw { tag: 'invalid-key', val: id };
  }
  read = (id: string) => {
    this.calls.push('read');
    this.check(id);
    return (this.data.get(id) ?? []).map((value) => ({ id, value, version: [] }));
  };
  get = (id: string) => {
    this.calls.push('get');
    this.check(id);
    return this.data.get(id)?.[0];
  };
  set = (id: string, value: string) => {
    this.calls.push('set');
    this.check(id);
    if (value === '') throw { tag: 'invalid-value', val: 'empty' };
    this.data.set(id, [value]);
  };
  readonly unused = (): never => {
    throw new Error('not used by these functions');
  };
  getMany = this.unused;
  setMany = this.unused;
  delete = this.unused;
  scan = this.unused;
  keys = this.unused;
  append = this.unused;
  siblings(id: string, values: string[]): void {
    this.data.set(id, values);
  }
}

const tmpDirs: string[] = [];
const test = suite('functions: the paper functions');
test.after(async () => {
  await Promise.all(tmpDirs.map((dir) => fs.rm(dir, { recursive: true, force: true })));
});

async function instantiate(name: string, kv: MemoryKv): Promise<Handler> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(path.join(BUILD, `${name}.wasm`)));
  } catch {
    throw new Error(`functions/build/${name}.wasm is missing: run \`npm run build:functions\``);
  }
  const { files } = await transpile(bytes, { name, instantiation: 'async', noTypescript: true });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `enoki-${name}-`));
  tmpDirs.push(dir);
  const modules = new Map<string, WebAssembly.Module>();
  for (const [file, data] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), data);
    if (file.endsWith('.wasm')) modules.set(file, await WebAssembly.compile(data as Uint8Array<ArrayBuffer>));
  }
  const glue = await import(pathToFileURL(path.join(dir, `${name}.js`)).href);
  // write is built with WASI random (functions/build.ts), so the WASI imports are given too.
  const wasi = await createWasiHost(() => undefined, () => []);
  const instance = await glue.instantiate((file: string) => modules.get(file)!, {
    ...wasi.imports,
    'enoki:faas/kv': kv,
    'enoki:faas/log': { write: () => undefined },
    'enoki:faas/env': { get: (): undefined => undefined, all: (): [string, string][] => [] },
    // JS guests import every interface of the world; these examples make no calls and no atomic operations.
    'enoki:faas/invoke': { call: noCalls, callAsync: noCalls },
    'enoki:faas/atomics': { increment: kv.unused, compareAndSwap: kv.unused },
  });
  return instance.handler as Handler;
}

/** Calls the handler with `text` as the body (GET when empty, as the originals' clients did). */
function call(handler: Handler, text: string): { status: number; text: string } {
  const res = handler.handle({ method: text === '' ? 'GET' : 'POST', path: '/', query: '', headers: [], body: new TextEncoder().encode(text) });
  return { status: res.status, text: new TextDecoder().decode(res.body) };
}

/** The message of an `err` result (a thrown string in the guest). */
function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return String((e as { payload?: unknown }).payload ?? e);
  }
  throw new Error('expected the call to fail');
}

test('integer counts per thread with a read and a set, and takes the numeric max of siblings', async () => {
  const kv = new MemoryKv();
  const h = await instantiate('integer', kv);
  assert.equal([call(h, '').text, call(h, '').text], ['1', '2']);
  assert.equal(kv.data.get('counter'), ['2']);
  kv.calls.length = 0;
  assert.is(call(h, '3-ignored').text, '1');
  assert.equal(kv.calls, ['read', 'set']);
  assert.equal(kv.data.get('counter3'), ['1']);
  // The original compared the strings: max("9", "10") is "9", and it answered 10.
  kv.siblings('counter7', ['9', '10']);
  assert.is(call(h, '7').text, '11');
  kv.siblings('counter8', ['not a number']);
  assert.is(call(h, '8').text, '1', 'a value that is no integer counts as 0');
  assert.is(call(h, 'a b').status, 400);
});

test('read writes its item on the first call and reads it after, one KV read per call', async () => {
  const kv = new MemoryKv();
  const h = await instantiate('read', kv);
  assert.equal(call(h, '4-5'), { status: 200, text: 'write' });
  assert.equal(kv.data.get('data4'), ['aaaaa']);
  kv.calls.length = 0;
  assert.equal(call(h, '4-5'), { status: 200, text: 'read' });
  assert.equal(kv.calls, ['read']);
  assert.is(call(h, '').text, 'write');
  assert.is(kv.data.get('data')![0].length, 1024, 'the default size');
  assert.match(failure(() => call(h, '5-0')), /writing failed: invalid-value/);
  assert.match(failure(() => call(h, '5-x')), /invalid size/);
});

test('write stores the size asked for under a fresh version-4 UUID and answers it', async () => {
  const kv = new MemoryKv();
  const h = await instantiate('write', kv);
  const a = call(h, '0-3');
  const b = call(h, '0-3');
  for (const id of [a.text, b.text]) {
    assert.match(id, /^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
    assert.equal(kv.data.get(id), ['aaa']);
  }
  assert.is.not(a.text, b.text);
  assert.equal(kv.calls, ['set', 'set']);
  assert.is(kv.data.get(call(h, '').text)![0].length, 1024);
});

test('replication writes a body and reads it back, "No value yet" before any write', async () => {
  const kv = new MemoryKv();
  const h = await instantiate('replication', kv);
  assert.equal(call(h, ''), { status: 200, text: 'No value yet' });
  assert.equal(call(h, '5f1c'), { status: 200, text: '' });
  assert.equal(kv.data.get('counter'), ['5f1c']);
  assert.equal(call(h, ''), { status: 200, text: '5f1c' });
  assert.equal(kv.calls, ['get', 'set', 'get']);
});

test.run();
