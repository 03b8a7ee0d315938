// The guest build library (runtime/build/): rebuilds only when an input changed, and build errors
// name the file and what is wrong. Uses WAT guests and failing JS, which build in well under a second.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { buildGuest, GuestBuildError } from '../../runtime/build/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url)); // from dist/test/functions/
const HELLO = path.join(ROOT, 'functions', 'hello', 'hello.wat');

const test = suite<{ dir: string; wit: string; source: string; out: string }>('functions: guest build cache');

test.before.each(async (ctx) => {
  ctx.dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-build-'));
  ctx.wit = path.join(ctx.dir, 'wit');
  await fs.cp(path.join(ROOT, 'wit'), ctx.wit, { recursive: true });
  ctx.source = path.join(ctx.dir, 'hello.wat');
  await fs.copyFile(HELLO, ctx.source);
  ctx.out = path.join(ctx.dir, 'out', 'hello.wasm');
});
test.after.each(async ({ dir }) => {
  await fs.rm(dir, { recursive: true, force: true });
});

test('a second build with the same inputs is skipped', async ({ source, out, wit }) => {
  const first = await buildGuest({ source, out, witDir: wit });
  assert.is(first.cached, false);
  assert.ok((await fs.stat(`${out}.stamp`)).isFile());
  let announced = false;
  const second = await buildGuest({ source, out, witDir: wit, onBuild: () => (announced = true) });
  assert.is(second.cached, true);
  assert.not.ok(announced);
  assert.equal(second.bytes, first.bytes);
});

test('a changed source, WIT or world, or a damaged output, is rebuilt', async ({ source, out, wit }) => {
  await buildGuest({ source, out, witDir: wit });
  await fs.appendFile(source, '\n;; an edit\n');
  assert.is((await buildGuest({ source, out, witDir: wit })).cached, false, 'source edited');
  await fs.appendFile(path.join(wit, 'enoki.wit'), '\n/// an edit\n');
  assert.is((await buildGuest({ source, out, witDir: wit })).cached, false, 'WIT edited');
  await fs.writeFile(out, 'not what was built');
  const rebuilt = await buildGuest({ source, out, witDir: wit });
  assert.is(rebuilt.cached, false, 'output replaced');
  assert.equal(new Uint8Array(await fs.readFile(out)), rebuilt.bytes);
  await fs.rm(out);
  assert.is((await buildGuest({ source, out, witDir: wit })).cached, false, 'output removed');
  assert.is((await buildGuest({ source, out, witDir: wit })).cached, true);
  await fs.writeFile(path.join(wit, 'extra.wit'), 'package enoki:faas@0.1.0;\nworld other { import log; export handler; }\n');
  assert.is((await buildGuest({ source, out, witDir: wit, world: 'other' })).cached, false, 'world changed');
});

async function buildError(spec: Parameters<typeof buildGuest>[0]): Promise<GuestBuildError> {
  try {
    await buildGuest(spec);
  } catch (err) {
    assert.instance(err, GuestBuildError);
    assert.is((err as GuestBuildError).code, 'ERR_GUEST_BUILD');
    return err as GuestBuildError;
  }
  throw new Error('the build succeeded');
}

test('a JS syntax error names the file and the line', async ({ dir, out, wit }) => {
  const source = path.join(dir, 'broken.js');
  await fs.writeFile(source, 'export const handler = {\n  handle(req) { return 1 +; },\n};\n');
  const err = await buildError({ source, out, witDir: wit });
  assert.ok(err.message.startsWith(`${source}: JavaScript syntax error`), err.message);
  assert.match(err.message, /broken\.js:2:/);
  assert.not.ok(await fs.stat(`${out}.stamp`).catch(() => undefined), 'no stamp for a failed build');
});

test('a WAT error gives the position; a module that misses the world says what is missing', async ({ dir, out, wit }) => {
  const source = path.join(dir, 'bad.wat');
  await fs.writeFile(source, '(module\n  (func (resul i32)))\n');
  assert.match((await buildError({ source, out, witDir: wit })).message, /bad\.wat:2:10: unknown operator/);
  await fs.writeFile(source, '(module (func (export "run")))\n');
  assert.match((await buildError({ source, out, witDir: wit })).message, /enoki:faas\/handler@0\.1\.0.*handle/);
});

test('features are checked and only apply to JS', async ({ source, out, wit }) => {
  const err = await buildError({ source: source.replace(/\.wat$/, '.js'), out, witDir: wit, features: ['clockz' as 'clocks'] });
  assert.match(err.message, /unknown WASI feature clockz/);
  assert.match((await buildError({ source, out, witDir: wit, features: ['stdio'] })).message, /JS guests only/);
});

test.run();
