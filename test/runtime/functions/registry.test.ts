// FunctionRegistry: version ids, rollback, bounded history, and that what a deploy acknowledged
// is what a restarted node loads.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { checkFunctionName, FunctionRegistry, sameOptions, type FunctionOptions } from '../../../runtime/functions/registry.js';

const OPTIONS: FunctionOptions = { keygroup: 'counter', timeoutMs: 1000, memoryMiB: 64, env: { MODE: 'test' } };

const dirs: string[] = [];
async function registryFile(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-registry-'));
  dirs.push(dir);
  return path.join(dir, 'nested', 'functions.json');
}

async function withVersions(n: number, history = 10): Promise<{ registry: FunctionRegistry; file: string }> {
  const file = await registryFile();
  const registry = new FunctionRegistry(file, history);
  for (let i = 1; i <= n; i++) await registry.addVersion('counter', `sha256-${i}`, 100 + i, OPTIONS);
  return { registry, file };
}

async function rejectsWith(action: () => Promise<unknown>, code: string): Promise<void> {
  try {
    await action();
  } catch (err) {
    assert.is((err as { code?: string }).code, code, String(err));
    return;
  }
  assert.unreachable(`expected ${code}`);
}

test.after(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

test('addVersion numbers versions v1, v2, … and activates the newest', async () => {
  const { registry } = await withVersions(0);
  const v1 = await registry.addVersion('counter', 'sha256-a', 10, OPTIONS);
  const v2 = await registry.addVersion('counter', 'sha256-b', 20, OPTIONS);
  assert.is(v1.id, 'v1');
  assert.is(v2.id, 'v2');
  assert.is(v2.digest, 'sha256-b');
  assert.equal(v2.options, OPTIONS);
  const record = registry.require('counter');
  assert.is(record.active, 'v2');
  assert.equal(record.versions.map((v) => v.id), ['v1', 'v2']);
  assert.equal(registry.liveDigests(), new Set(['sha256-a', 'sha256-b']));
});

test('activate() without an id rolls back one version at a time until there is none before', async () => {
  const { registry } = await withVersions(3);
  assert.is((await registry.activate('counter')).id, 'v2');
  assert.is(registry.require('counter').active, 'v2');
  assert.is((await registry.activate('counter')).id, 'v1');
  await rejectsWith(() => registry.activate('counter'), 'ERR_NO_PREVIOUS_VERSION');
  assert.is(registry.require('counter').active, 'v1');
  assert.is((await registry.activate('counter', 'v3')).id, 'v3');
  assert.is(registry.require('counter').active, 'v3');
});

test('activating a version or function that does not exist fails with its code', async () => {
  const { registry } = await withVersions(2);
  await rejectsWith(() => registry.activate('counter', 'v9'), 'ERR_VERSION_NOT_FOUND');
  await rejectsWith(() => registry.activate('nope'), 'ERR_FUNCTION_NOT_FOUND');
  assert.is(registry.require('counter').active, 'v2');
  // A failed update does not block the ones queued after it.
  assert.is((await registry.addVersion('counter', 'sha256-3', 1, OPTIONS)).id, 'v3');
});

test('history keeps only the newest versions; ids are never reused', async () => {
  const { registry } = await withVersions(5, 3);
  const record = registry.require('counter');
  assert.equal(record.versions.map((v) => v.id), ['v3', 'v4', 'v5']);
  assert.is(record.active, 'v5');
  assert.equal(registry.liveDigests(), new Set(['sha256-3', 'sha256-4', 'sha256-5']));
  await rejectsWith(() => registry.activate('counter', 'v1'), 'ERR_VERSION_NOT_FOUND');
  await registry.activate('counter', 'v3');
  await rejectsWith(() => registry.activate('counter'), 'ERR_NO_PREVIOUS_VERSION');
  assert.is((await registry.addVersion('counter', 'sha256-6', 1, OPTIONS)).id, 'v6');
  assert.equal(registry.require('counter').versions.map((v) => v.id), ['v4', 'v5', 'v6']);
});

test('a new registry on the same file loads the same state', async () => {
  const { registry, file } = await withVersions(3);
  await registry.addVersion('other', 'sha256-x', 5, { ...OPTIONS, keygroup: 'other' });
  await registry.activate('counter');
  await rejectsWith(() => registry.activate('counter', 'v9'), 'ERR_VERSION_NOT_FOUND');

  const reloaded = new FunctionRegistry(file);
  await reloaded.load();
  assert.equal(reloaded.list(), registry.list());
  assert.equal(reloaded.list().map((r) => r.name), ['counter', 'other']);
  assert.is(reloaded.require('counter').active, 'v2');
  assert.is((await reloaded.addVersion('counter', 'sha256-4', 1, OPTIONS)).id, 'v4');
});

test('load() of a file that does not exist yet gives an empty registry', async () => {
  const registry = new FunctionRegistry(await registryFile());
  await registry.load();
  assert.equal(registry.list(), []);
  assert.is(registry.get('counter'), undefined);
});

test('concurrent deploys of one function get distinct versions, all persisted', async () => {
  const { registry, file } = await withVersions(0);
  const added = await Promise.all(
    [1, 2, 3, 4, 5].map((i) => registry.addVersion('counter', `sha256-${i}`, i, OPTIONS)),
  );
  assert.equal(added.map((v) => v.id).sort(), ['v1', 'v2', 'v3', 'v4', 'v5']);
  assert.is(registry.require('counter').versions.length, 5);
  const reloaded = new FunctionRegistry(file);
  await reloaded.load();
  assert.equal(reloaded.require('counter'), registry.require('counter'));
});

test('remove drops the function, also from disk', async () => {
  const { registry, file } = await withVersions(2);
  await registry.addVersion('other', 'sha256-x', 5, OPTIONS);
  const removed = await registry.remove('counter');
  assert.is(removed.name, 'counter');
  assert.is(removed.versions.length, 2);
  assert.is(registry.get('counter'), undefined);
  await rejectsWith(() => registry.remove('counter'), 'ERR_FUNCTION_NOT_FOUND');
  assert.equal(registry.liveDigests(), new Set(['sha256-x']));

  const reloaded = new FunctionRegistry(file);
  await reloaded.load();
  assert.equal(reloaded.list().map((r) => r.name), ['other']);
});

test('checkFunctionName accepts lowercase names with dashes and rejects the rest', () => {
  for (const name of ['counter', 'my-fn-2', '0', 'a'.repeat(63)]) checkFunctionName(name);
  for (const name of ['', 'Counter', '-x', 'a'.repeat(64), 'a/b', 'a b', 'a_b', 'ä']) {
    try {
      checkFunctionName(name);
    } catch (err) {
      assert.is((err as { code?: string }).code, 'ERR_INVALID_NAME', name);
      continue;
    }
    assert.unreachable(`accepted ${JSON.stringify(name)}`);
  }
});

test('deployVersion keeps the active version for the same digest and options, even when racing', async () => {
  const file = await registryFile();
  const registry = new FunctionRegistry(file);
  const first = await registry.deployVersion('counter', 'sha256-a', 10, OPTIONS);
  assert.equal([first.version.id, first.created], ['v1', true]);
  const stamp = (await fs.stat(file)).mtimeMs;
  const same = await Promise.all([1, 2, 3].map(() => registry.deployVersion('counter', 'sha256-a', 10, { ...OPTIONS, env: { MODE: 'test' } })));
  assert.equal(same.map((r) => [r.version.id, r.created]), [['v1', false], ['v1', false], ['v1', false]]);
  assert.is((await fs.stat(file)).mtimeMs, stamp, 'nothing rewritten');
  const racing = await Promise.all([1, 2].map(() => registry.deployVersion('counter', 'sha256-b', 10, OPTIONS)));
  assert.equal(racing.map((r) => [r.version.id, r.created]), [['v2', true], ['v2', false]]);
  assert.equal(registry.get('counter')?.versions.map((v) => v.id), ['v1', 'v2']);
});

test('sameOptions compares every option, the environment regardless of order', () => {
  const base: FunctionOptions = { keygroup: 'kg', timeoutMs: 100, memoryMiB: 64, env: { A: '1', B: '2' } };
  assert.ok(sameOptions(base, { ...base, env: { B: '2', A: '1' } }));
  const others: Partial<FunctionOptions>[] = [{ keygroup: 'other' }, { kvNode: 'cloud' }, { timeoutMs: 101 }, { memoryMiB: 65 }, { env: { A: '1' } }, { env: { A: '1', B: '3' } }];
  for (const other of others) {
    assert.not.ok(sameOptions(base, { ...base, ...other }), JSON.stringify(other));
  }
});

test.run();
