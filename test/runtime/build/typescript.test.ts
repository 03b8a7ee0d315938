// TypeScript guests: several modules with types, enums and interfaces build into one component
// that runs on a node; the cache follows every imported module; syntax errors and missing
// modules are coded errors that name the file.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { buildGuest } from '../../../runtime/build/build-guest.js';
import { startTestNode } from '../../helpers/test-node.js';

const WIT = fileURLToPath(new URL('../../../../wit', import.meta.url));

const test = suite<{ dir: string }>('build: TypeScript guests');

const GUEST = `import { get, set } from 'enoki:faas/kv@0.1.0';
import { Shout, render, type Greeting } from './render.ts';
import { suffix } from './suffix';

const encoder = new TextEncoder();

export const handler = {
  handle(req: { method: string; path: string; body: Uint8Array }): { status: number; headers: [string, string][]; body: Uint8Array } {
    const previous: string | undefined = get('last');
    const greeting: Greeting = { name: req.path.slice(1) || 'world', mode: req.method === 'POST' ? Shout.Loud : Shout.Quiet };
    set('last', greeting.name);
    return { status: 200, headers: [['content-type', 'text/plain']], body: encoder.encode(render(greeting) + suffix(previous)) };
  },
};
`;

const RENDER = `export enum Shout { Quiet, Loud }
export interface Greeting { name: string; mode: Shout }
export function render(g: Greeting): string {
  const text = \`hello, \${g.name}\`;
  return g.mode === Shout.Loud ? text.toUpperCase() : text;
}
`;

const SUFFIX = (word: string) => `export const suffix = (previous?: string): string => (previous ? \` (${word} \${previous})\` : '');\n`;

test.before(async (ctx) => {
  ctx.dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-ts-'));
  await fs.writeFile(path.join(ctx.dir, 'greet.ts'), GUEST);
  await fs.writeFile(path.join(ctx.dir, 'render.ts'), RENDER);
  await fs.writeFile(path.join(ctx.dir, 'suffix.ts'), SUFFIX('after'));
});
test.after(async (ctx) => {
  await fs.rm(ctx.dir, { recursive: true, force: true });
});

test('a guest of three modules builds, deploys and runs with its types stripped', async ({ dir }) => {
  const result = await buildGuest({ source: path.join(dir, 'greet.ts'), out: path.join(dir, 'greet.wasm'), witDir: WIT });
  assert.is(result.kind, 'ts');
  const n = await startTestNode();
  try {
    const res = await n.deploy('greet', result.bytes);
    assert.is(res.status, 201, await res.text());
    assert.is(await (await n.call('greet', { path: '/ada' })).text(), 'hello, ada');
    assert.is(await (await n.call('greet', { method: 'POST', path: '/bob' })).text(), 'HELLO, BOB (after ada)');
  } finally {
    await n.close();
  }
});

test('the cache keys on every imported module, not only the entry', async ({ dir }) => {
  const spec = { source: path.join(dir, 'greet.ts'), out: path.join(dir, 'greet.wasm'), witDir: WIT };
  assert.is((await buildGuest(spec)).cached, true, 'nothing changed');
  await fs.writeFile(path.join(dir, 'suffix.ts'), SUFFIX('since'));
  assert.is((await buildGuest(spec)).cached, false, 'an imported module changed');
  // A comment or a type is not code: the bundle, and so the component, stays the same.
  await fs.writeFile(path.join(dir, 'render.ts'), RENDER.replace('export interface Greeting {', '// the shape\nexport interface Greeting {'));
  assert.is((await buildGuest(spec)).cached, true, 'only a comment changed');
});

async function failure(work: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await work;
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected the build to fail');
}

test('a syntax error is an ERR_GUEST_BUILD naming the file and the line', async ({ dir }) => {
  const source = path.join(dir, 'broken.ts');
  await fs.writeFile(source, 'export const handler = {\n  handle(req: ) {\n    return 1;\n  },\n};\n');
  const err = await failure(buildGuest({ source, out: path.join(dir, 'broken.wasm'), witDir: WIT }));
  assert.is(err.code, 'ERR_GUEST_BUILD');
  assert.match(err.message, /broken\.ts/);
  assert.match(err.message, /broken\.ts:2:/);
});

test('an import of a module that does not exist is an ERR_GUEST_BUILD naming it', async ({ dir }) => {
  const source = path.join(dir, 'missing.ts');
  await fs.writeFile(source, "import { nothing } from './nowhere.ts';\nexport const handler = { handle: () => nothing };\n");
  const err = await failure(buildGuest({ source, out: path.join(dir, 'missing.wasm'), witDir: WIT }));
  assert.is(err.code, 'ERR_GUEST_BUILD');
  assert.match(err.message, /nowhere\.ts/);
});

test.run();
