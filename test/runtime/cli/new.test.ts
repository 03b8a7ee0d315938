// `enoki new`: for each language, the scaffold builds and deploys with the command its README
// gives, and then answers; the TypeScript one type-checks against the world's declarations, and
// a KV call of the wrong type fails the check.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { ensurePythonTools } from '../../../runtime/build/python-tools.js';
import { loadToolConfig } from '../../../runtime/config.js';
import { cleanEnv, runCli, startCliNode, type CliNode } from '../../helpers/cli-node.js';
import { TOKEN } from '../../helpers/test-node.js';

const test = suite<{ dir: string; node: CliNode }>('cli: enoki new');

test.before(async (ctx) => {
  ctx.dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-new-'));
  await ensurePythonTools(loadToolConfig(), { onInstall: (message) => process.stderr.write(`${message}\n`) });
  // Node 20's V8 needs a flag for Python guests (see runtime/build/engine-support.ts).
  ctx.node = await startCliNode([]);
});
test.after(async (ctx) => {
  await ctx.node?.stop();
  await fs.rm(ctx.dir, { recursive: true, force: true });
});

/** Runs the README's `npx enoki …` build-and-deploy line in the scaffold's folder. */
async function buildAndDeployAsReadmeSays(dir: string, node: CliNode): Promise<void> {
  const readme = await fs.readFile(path.join(dir, 'README.md'), 'utf8');
  const line = readme.split('\n').find((l) => l.startsWith('npx enoki build '));
  assert.ok(line, `README has a build line:\n${readme}`);
  const env = cleanEnv({ ENOKI_URL: node.url, ENOKI_ADMIN_TOKEN: TOKEN });
  for (const command of line.split('&&').map((c) => c.trim())) {
    const args = command.split(/\s+/);
    assert.equal(args.slice(0, 2), ['npx', 'enoki']);
    const run = await runCli(args.slice(2), { cwd: dir, env });
    assert.is(run.code, 0, `${command}:\n${run.stderr}`);
  }
}

async function call(node: CliNode, name: string): Promise<string> {
  const res = await fetch(`${node.url}/fn/${name}`, { method: 'POST' });
  const text = await res.text();
  assert.is(res.status, 200, text);
  return text;
}

for (const lang of ['js', 'ts', 'python'] as const) {
  test(`${lang}: the scaffold builds, deploys as its README says and counts in its keygroup`, async ({ dir, node }) => {
    const name = `count-${lang}`;
    const made = await runCli(['new', name, '--lang', lang], { cwd: dir });
    assert.is(made.code, 0, made.stderr);
    await buildAndDeployAsReadmeSays(path.join(dir, name), node);
    assert.is(await call(node, name), '1\n');
    assert.is(await call(node, name), '2\n');
    // The CLI reads the same count from the keygroup (the name without dashes).
    const kv = await runCli(['kv', 'get', name.replaceAll('-', ''), 'count', '--url', node.url, '--token', TOKEN]);
    assert.is(kv.code, 0, kv.stderr);
    assert.is((JSON.parse(kv.stdout) as { siblings: { value: string }[] }).siblings[0].value, '2');
  });
}

test('wat: the scaffold builds, deploys and answers', async ({ dir, node }) => {
  const made = await runCli(['new', 'hi-wat', '--lang', 'wat'], { cwd: dir });
  assert.is(made.code, 0, made.stderr);
  await buildAndDeployAsReadmeSays(path.join(dir, 'hi-wat'), node);
  assert.is(await call(node, 'hi-wat'), 'hello from hi-wat\n');
});

test('ts: tsc checks the scaffold against the generated declarations and catches a wrong KV call', async ({ dir }) => {
  const project = path.join(dir, 'count-ts');
  assert.ok((await fs.readdir(path.join(project, 'types', 'interfaces'))).includes('enoki-faas-kv.d.ts'));
  const tsc = path.join(path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  const check = () => spawnSync(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { encoding: 'utf8', timeout: 120_000 });
  const clean = check();
  assert.is(clean.status, 0, clean.stdout + clean.stderr);
  const source = path.join(project, 'count-ts.ts');
  const text = await fs.readFile(source, 'utf8');
  assert.match(text, /increment\('count', 1n\)/);
  await fs.writeFile(source, text.replace("increment('count', 1n)", "increment('count', 1)"));
  const wrong = check();
  assert.is.not(wrong.status, 0);
  assert.match(wrong.stdout, /count-ts\.ts\(\d+,\d+\): error TS\d+: .*bigint/, wrong.stdout + wrong.stderr);
});

test('bad names, unknown languages and existing folders are refused', async ({ dir }) => {
  const bad = await runCli(['new', 'Bad_Name', '--lang', 'js'], { cwd: dir });
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /cannot be a function name/);
  const lang = await runCli(['new', 'fine', '--lang', 'cobol'], { cwd: dir });
  assert.is(lang.code, 1);
  assert.match(lang.stderr, /--lang must be one of js, ts, python, wat/);
  const again = await runCli(['new', 'count-js', '--lang', 'js'], { cwd: dir });
  assert.is(again.code, 1);
  assert.match(again.stderr, /already exists/);
});

test.run();
