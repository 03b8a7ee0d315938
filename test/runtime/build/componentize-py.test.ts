// Python guest builds that fail: each is an ERR_GUEST_BUILD naming the file and saying why in
// the user's terms (componentize-py's message without its Rust and Python stack traces), and a
// missing Python says what to install and which command to run then. And an install of the
// toolchain made by an older version is mended when it is found.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { buildGuest } from '../../../runtime/build/build-guest.js';
import { buildPythonGuest } from '../../../runtime/build/componentize-py.js';
import { ensurePythonTools, findPythonTools, pythonToolsDir } from '../../../runtime/build/python-tools.js';
import { loadToolConfig } from '../../../runtime/config.js';
import { runCli } from '../../helpers/cli-node.js';

const WIT = fileURLToPath(new URL('../../../../wit', import.meta.url));

const test = suite<{ dir: string }>('build: Python guests that do not build');

test.before(async (ctx) => {
  ctx.dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-py-fail-'));
  await ensurePythonTools(loadToolConfig(), { onInstall: (message) => process.stderr.write(`${message}\n`) });
});
test.after(async (ctx) => {
  await fs.rm(ctx.dir, { recursive: true, force: true });
});

async function failure(work: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await work;
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected the build to fail');
}

test('without a usable Python, the error says what to install and what to run then', async ({ dir }) => {
  const config = { cacheDir: path.join(dir, 'empty-cache'), python: path.join(dir, 'no-such-python3'), env: { PATH: '/usr/bin:/bin' } };
  const err = await failure(ensurePythonTools(config, { forFile: 'app.py' }));
  assert.is(err.code, 'ERR_GUEST_BUILD');
  assert.match(err.message, /no-such-python3` was not found/);
  assert.match(err.message, /apt-get install python3/);
  assert.match(err.message, /enoki setup python/);
  // Nothing half-installed is left to be mistaken for a toolchain.
  assert.equal(await fs.readdir(config.cacheDir).catch(() => []), []);
});

test('an install made before its scripts were pointed at their folder is mended when found: scripts, prompt and pyvenv.cfg', async ({ dir }) => {
  const config = { cacheDir: path.join(dir, 'old-install'), python: 'python3', env: {} };
  const tools = pythonToolsDir(config);
  const temporary = `${tools}.tmp-4242-0123abcd`;
  const base = path.basename(tools);
  await fs.mkdir(path.join(tools, 'bin'), { recursive: true });
  await fs.writeFile(path.join(tools, 'enoki-tools.json'), '{}\n');
  await fs.writeFile(path.join(tools, 'bin', 'python'), '');
  await fs.writeFile(path.join(tools, 'bin', 'componentize-py'), `#!${temporary}/bin/python\nimport sys\n`);
  await fs.writeFile(path.join(tools, 'bin', 'activate'), `VIRTUAL_ENV='${temporary}'\nPS1="(${base}.tmp-4242-0123abcd) \${PS1:-}"\n`);
  await fs.writeFile(path.join(tools, 'pyvenv.cfg'), `home = /usr/bin\ncommand = /usr/bin/python3 -m venv ${temporary}\n`);
  assert.ok(await findPythonTools(config));
  assert.is(await fs.readFile(path.join(tools, 'bin', 'componentize-py'), 'utf8'), `#!${tools}/bin/python\nimport sys\n`);
  assert.is(await fs.readFile(path.join(tools, 'bin', 'activate'), 'utf8'), `VIRTUAL_ENV='${tools}'\nPS1="(${base}) \${PS1:-}"\n`);
  assert.is(await fs.readFile(path.join(tools, 'pyvenv.cfg'), 'utf8'), `home = /usr/bin\ncommand = /usr/bin/python3 -m venv ${tools}\n`);
});

test('a module name that Python cannot import is refused before any build', async ({ dir }) => {
  const source = path.join(dir, 'my-app.py');
  await fs.writeFile(source, 'x = 1\n');
  const err = await failure(buildPythonGuest({ source, witDir: WIT }));
  assert.is(err.code, 'ERR_GUEST_BUILD');
  assert.match(err.message, /Python identifier/);
});

test('a syntax error: enoki build exits 1 with the line, the code and no stack traces', async ({ dir }) => {
  const app = path.join(dir, 'syntax');
  await fs.mkdir(app);
  await fs.writeFile(path.join(app, 'app.py'), 'from wit_world import exports\n\ndef broken(:\n    pass\n');
  const run = await runCli(['build', 'app.py'], { cwd: app });
  assert.is(run.code, 1, run.stderr);
  assert.match(run.stderr, /SyntaxError/);
  assert.match(run.stderr, /app\.py", line 3/);
  assert.match(run.stderr, /\[ERR_GUEST_BUILD\]/);
  assert.not.match(run.stderr, /Stack backtrace|Traceback|\.rs:\d+/);
  assert.equal((await fs.readdir(app)).sort(), ['app.py'], 'no output, and no __pycache__ in the source folder');
});

test('a module without the exported interface names the class to write', async ({ dir }) => {
  const app = path.join(dir, 'noexport');
  await fs.mkdir(app);
  await fs.writeFile(path.join(app, 'app.py'), 'GREETING = "hello"\n');
  const err = await failure(buildGuest({ source: path.join(app, 'app.py'), out: path.join(app, 'app.wasm'), witDir: WIT }));
  assert.is(err.code, 'ERR_GUEST_BUILD');
  assert.match(err.message, /has no attribute 'Handler'/);
  assert.match(err.message, /class Handler\(exports\.Handler\)/);
});

test.run();
