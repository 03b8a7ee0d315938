// The built example functions and test guests: the right kind of binary for the right world, and
// the examples answering requests when run in-process through jco with stub host imports.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { componentWit, transpile } from '@bytecodealliance/jco';
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';

const noCalls = (): never => {
  throw { payload: { tag: 'unavailable', val: 'calls between functions are not served here' } };
};

const ROOT = fileURLToPath(new URL('../../../', import.meta.url)); // from dist/test/functions/
const BUILD = path.join(ROOT, 'functions', 'build');
const HANDLER = 'enoki:faas/handler@0.1.0';

const COMPONENT_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
const CORE_MODULE_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

async function built(name: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await fs.readFile(path.join(BUILD, `${name}.wasm`)));
  } catch {
    throw new Error(`functions/build/${name}.wasm is missing: run \`npm run build:functions\``);
  }
}

const header = (bytes: Uint8Array): number[] => [...bytes.subarray(0, 8)];

/** Every folder under functions/ with a <name>.js or <name>.wat is an example. */
async function exampleNames(): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await fs.readdir(path.join(ROOT, 'functions'), { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'build') continue;
    const files = await fs.readdir(path.join(ROOT, 'functions', entry.name));
    if (files.includes(`${entry.name}.js`) || files.includes(`${entry.name}.wat`)) names.push(entry.name);
  }
  return names.sort();
}

// --- in-process instantiation -------------------------------------------------------------

interface Request {
  method: string;
  path: string;
  query: string;
  headers: [string, string][];
  body: Uint8Array;
}
interface Response {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}
interface Handler {
  handle(req: Request): Response;
}

const request = (init: Partial<Request> & { text?: string } = {}): Request => ({
  method: init.method ?? 'GET',
  path: init.path ?? '/',
  query: init.query ?? '',
  headers: init.headers ?? [],
  body: init.body ?? new TextEncoder().encode(init.text ?? ''),
});
const bodyText = (res: Response): string => new TextDecoder().decode(res.body);

/** A KV stub over a Map with the WIT's semantics for the calls the examples use. */
class MemoryKv {
  readonly data = new Map<string, string>();
  readonly calls: string[] = [];

  private check(id: string): void {
    if (!/^[a-zA-Z0-9]+$/.test(id)) throw { tag: 'invalid-key', val: `bad id ${JSON.stringify(id)}` };
  }
  get = (id: string): string | undefined => {
    this.calls.push('get');
    this.check(id);
    return this.data.get(id);
  };
  set = (id: string, value: string): void => {
    this.calls.push('set');
    this.check(id);
    this.data.set(id, value);
  };
  delete = (id: string): void => {
    this.calls.push('delete');
    this.check(id);
    if (!this.data.delete(id)) throw { tag: 'not-found', val: id };
  };
  scan = (start: string, count: number): { id: string; value: string }[] => {
    this.calls.push('scan');
    if (start !== '' && !this.data.has(start)) throw { tag: 'not-found', val: start };
    return [...this.data.keys()]
      .sort()
      .filter((id) => id >= start)
      .slice(0, count)
      .map((id) => ({ id, value: this.data.get(id)! }));
  };
  increment = (id: string, delta: bigint): bigint => {
    this.calls.push('increment');
    this.check(id);
    const value = BigInt(this.data.get(id) ?? '0') + delta;
    this.data.set(id, value.toString());
    return value;
  };
  private unused = (): never => {
    throw new Error('not used by the examples');
  };
  compareAndSwap = this.unused;
  read = this.unused;
  getMany = this.unused;
  setMany = this.unused;
  keys = this.unused;
  append = this.unused;
}

const tmpDirs: string[] = [];

interface Loaded {
  glue: {
    instantiate(getCoreModule: (file: string) => WebAssembly.Module, imports: object): Promise<{ handler: Handler }>;
  };
  modules: Map<string, WebAssembly.Module>;
}
const loaded = new Map<string, Promise<Loaded>>();

/** transpile → files in a temp dir → import the glue, compile the core modules; once per guest. */
function load(name: string): Promise<Loaded> {
  let entry = loaded.get(name);
  if (!entry) {
    entry = (async () => {
      const { files } = await transpile(await built(name), { name, instantiation: 'async', noTypescript: true });
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), `enoki-${name}-`));
      tmpDirs.push(dir);
      const modules = new Map<string, WebAssembly.Module>();
      for (const [file, data] of Object.entries(files)) {
        await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
        await fs.writeFile(path.join(dir, file), data);
        if (file.endsWith('.wasm')) modules.set(file, await WebAssembly.compile(data as Uint8Array<ArrayBuffer>));
      }
      const glue = (await import(pathToFileURL(path.join(dir, `${name}.js`)).href)) as Loaded['glue'];
      return { glue, modules };
    })();
    loaded.set(name, entry);
  }
  return entry;
}

/** A fresh instance of a built example with the given host imports. */
async function instantiate(name: string, kv: MemoryKv, logs: [string, string][] = []): Promise<Handler> {
  const { glue, modules } = await load(name);
  const instance = await glue.instantiate((file) => modules.get(file)!, {
    'enoki:faas/kv': kv,
    'enoki:faas/atomics': { increment: kv.increment, compareAndSwap: kv.compareAndSwap },
    'enoki:faas/log': { write: (level: string, message: string) => void logs.push([level, message]) },
    'enoki:faas/env': { get: (): undefined => undefined, all: (): [string, string][] => [] },
    // JS guests import every interface of the world; these examples make no calls.
    'enoki:faas/invoke': { call: noCalls, callAsync: noCalls },
  });
  return instance.handler;
}

// --- tests ----------------------------------------------------------------------------------

const test = suite('functions: built guests');

test.after(async () => {
  await Promise.all(tmpDirs.map((dir) => fs.rm(dir, { recursive: true, force: true })));
});

test('every example is built as a component that exports the handler', async () => {
  const names = await exampleNames();
  assert.ok(names.length >= 4, `examples found: ${names.join(', ')}`);
  for (const name of names) {
    const bytes = await built(name);
    assert.equal(header(bytes), COMPONENT_HEADER, `${name}.wasm is not a component`);
    const wit = await componentWit(bytes);
    assert.ok(wit.includes(`export ${HANDLER};`), `${name}.wasm does not export ${HANDLER}:\n${wit}`);
  }
});

test('the WAT example is a small component', async () => {
  const bytes = await built('hello');
  assert.ok(bytes.length < 10 * 1024, `hello.wasm is ${bytes.length} bytes`);
});

test('the test guests are what their names say', async () => {
  assert.equal(header(await built('fixtures/core-module')), CORE_MODULE_HEADER);
  const misbehave = await built('fixtures/misbehave');
  assert.equal(header(misbehave), COMPONENT_HEADER);
  assert.ok((await componentWit(misbehave)).includes(`export ${HANDLER};`));
  const wrongWorld = await built('fixtures/wrong-world');
  assert.equal(header(wrongWorld), COMPONENT_HEADER);
  const wit = await componentWit(wrongWorld);
  assert.ok(wit.includes('export other:thing/runner@1.0.0;'), wit);
  assert.not.ok(wit.includes(HANDLER), wit);
});

test('hello answers 200 with its text and a content type', async () => {
  const logs: [string, string][] = [];
  const handler = await instantiate('hello', new MemoryKv(), logs);
  for (let i = 0; i < 3; i++) {
    const res = handler.handle(request({ method: 'POST', path: '/x', query: 'a=1', headers: [['h', 'v']], text: 'ignored' }));
    assert.is(res.status, 200);
    assert.is(bodyText(res), 'hello from wat\n');
    assert.equal(res.headers, [['content-type', 'text/plain; charset=utf-8']]);
  }
  assert.equal(logs[0], ['info', 'hello called']);
});

test('hello takes large requests (its allocator grows memory)', async () => {
  const handler = await instantiate('hello', new MemoryKv());
  const res = handler.handle(request({ body: new Uint8Array(300 * 1024).fill(1) }));
  assert.is(res.status, 200);
});

test('counter counts per call with one atomic increment and resets on DELETE', async () => {
  const kv = new MemoryKv();
  const handler = await instantiate('counter', kv);
  assert.is(bodyText(handler.handle(request())), '1');
  assert.is(bodyText(handler.handle(request({ path: '/anything' }))), '2');
  assert.is(kv.data.get('count'), '2');
  assert.equal(kv.calls, ['increment', 'increment']);
  const reset = handler.handle(request({ method: 'DELETE' }));
  assert.is(reset.status, 200);
  assert.not.ok(kv.data.has('count'));
  assert.is(handler.handle(request({ method: 'DELETE' })).status, 200, 'resetting twice is fine');
  assert.is(bodyText(handler.handle(request({ method: 'POST' }))), '1');
  assert.is(handler.handle(request({ method: 'PATCH' })).status, 405);
});

test('movingaverage: 4 KV operations a call, the mean of the last 10 values', async () => {
  const kv = new MemoryKv();
  const handler = await instantiate('movingaverage', kv);
  const post = (text: string): string => {
    kv.calls.length = 0;
    const res = handler.handle(request({ method: 'POST', text }));
    assert.is(res.status, 200, bodyText(res));
    return bodyText(res);
  };
  assert.is(post('1'), '1');
  assert.equal(kv.calls, ['get', 'set', 'scan', 'set', 'set'], 'a first call also creates the pointer');
  for (let v = 2; v <= 10; v++) post(String(v));
  assert.equal(kv.calls, ['get', 'scan', 'set', 'set']);
  assert.is(post('11'), '6.5', 'the 11th value replaces the 1st: (11 + 2 + … + 10) / 10');
  assert.is(post('12'), '7.5');
  assert.is(kv.data.get('aaaacurr'), 'data2');
});

test('movingaverage keeps threads apart (the original scanned into the next thread)', async () => {
  const kv = new MemoryKv();
  const handler = await instantiate('movingaverage', kv);
  const post = (text: string): string => bodyText(handler.handle(request({ method: 'POST', text })));
  assert.is(post('0-10'), '10');
  assert.is(post('1-100'), '100');
  assert.is(post('1-100'), '100');
  // Thread 0's ring is b0 only; a scan from b0 also returns thread 1's c0 and c1, which the
  // original averaged in: (10 + 40 + 100) / 3 = 50.
  assert.is(post('0-40'), '25');
  assert.is(kv.data.get('aaaacurrb'), 'b2');
  assert.is(handler.handle(request({ method: 'POST', text: 'nonsense' })).status, 400);
  assert.is(handler.handle(request({ method: 'POST', text: '99-1' })).status, 400, 'thread 99 has no valid id letter');
});

test.run();
