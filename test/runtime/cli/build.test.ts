// `enoki build --wit DIR --world NAME`: JS and Python guests of a world other than Enoki's; the
// only world of a WIT folder is found without --world, and several ask for it.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { ensurePythonTools } from '../../../runtime/build/python-tools.js';
import { loadToolConfig } from '../../../runtime/config.js';
import { runCli } from '../../helpers/cli-node.js';

const test = suite<{ dir: string }>('cli: enoki build for other worlds');

const GREETER = `package example:greeter@1.0.0;

interface greet {
  hello: func(name: string) -> string;
}

world greeter {
  export greet;
}
`;

test.before(async (ctx) => {
  ctx.dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-cli-build-'));
  await fs.mkdir(path.join(ctx.dir, 'wit'));
  await fs.writeFile(path.join(ctx.dir, 'wit', 'greeter.wit'), GREETER);
});
test.after(async (ctx) => {
  await fs.rm(ctx.dir, { recursive: true, force: true });
});

/** The interfaces a component exports, by jco's reading of it. */
async function exportsOf(file: string): Promise<string[]> {
  const { componentWit } = await import('@bytecodealliance/jco');
  const wit = await componentWit(await fs.readFile(file));
  return [...wit.matchAll(/^\s*export ([a-z-]+:[a-z-]+\/[a-z-]+)/gm)].map((m) => m[1]);
}

test('a JS guest of another world, its only world found without --world', async ({ dir }) => {
  await fs.writeFile(path.join(dir, 'greet.js'), 'export const greet = { hello: (name) => `hello, ${name}` };\n');
  const run = await runCli(['build', 'greet.js', '--wit', 'wit'], { cwd: dir });
  assert.is(run.code, 0, run.stderr);
  assert.equal(await exportsOf(path.join(dir, 'greet.wasm')), ['example:greeter/greet']);
});

test('a Python guest of another world, with --world', async ({ dir }) => {
  await ensurePythonTools(loadToolConfig(), { onInstall: (message) => process.stderr.write(`${message}\n`) });
  await fs.writeFile(
    path.join(dir, 'app.py'),
    'from wit_world import exports\n\nclass Greet(exports.Greet):\n    def hello(self, name: str) -> str:\n        return f"hello, {name}"\n',
  );
  const run = await runCli(['build', 'app.py', '--wit', 'wit', '--world', 'greeter', '-o', 'greet-py.wasm'], { cwd: dir });
  assert.is(run.code, 0, run.stderr);
  assert.equal(await exportsOf(path.join(dir, 'greet-py.wasm')), ['example:greeter/greet']);
});

test('a WIT folder with several worlds needs --world, and an unknown world is an error', async ({ dir }) => {
  const two = path.join(dir, 'two');
  await fs.mkdir(two);
  await fs.writeFile(path.join(two, 'worlds.wit'), `${GREETER}\nworld other {\n  import greet;\n}\n`);
  const ambiguous = await runCli(['build', 'greet.js', '--wit', 'two'], { cwd: dir });
  assert.is(ambiguous.code, 1);
  assert.match(ambiguous.stderr, /several worlds \(greeter, other\): name one with --world/);
  assert.match(ambiguous.stderr, /\[ERR_GUEST_BUILD\]/);
  const unknown = await runCli(['build', 'greet.js', '--wit', 'wit', '--world', 'nope', '-o', 'nope.wasm'], { cwd: dir });
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, /nope/);
  assert.match(unknown.stderr, /\[ERR_GUEST_BUILD\]/);
});

test('a source of an unknown kind is refused with the kinds there are', async ({ dir }) => {
  await fs.writeFile(path.join(dir, 'guest.rb'), 'puts 1\n');
  const run = await runCli(['build', 'guest.rb'], { cwd: dir });
  assert.is(run.code, 1);
  assert.match(run.stderr, /expected \.js, \.mjs, \.ts, \.mts, \.py or \.wat/);
});

test.run();
