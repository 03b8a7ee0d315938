// Runs the TriggerStore conformance suite against MemoryTriggerStore and FileTriggerStore, plus the
// file store's own guarantees: an unreadable file is refused, a failed write changes nothing.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { FileTriggerStore } from '../../../replication/client-api/file-trigger-store.js';
import { MemoryTriggerStore } from '../../../replication/client-api/triggers.js';
import { runTriggerStoreConformance } from './trigger-store-conformance.js';

runTriggerStoreConformance('MemoryTriggerStore', async () => {
  const store = new MemoryTriggerStore();
  return { store, reopen: async () => store, cleanup: async () => {} };
});

runTriggerStoreConformance('FileTriggerStore', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-triggers-'));
  const file = path.join(dir, 'triggers.json');
  return {
    store: await FileTriggerStore.open(file),
    reopen: () => FileTriggerStore.open(file),
    cleanup: () => fs.rm(dir, { recursive: true, force: true }),
  };
});

const test = suite<{ dir: string }>('FileTriggerStore');
test.before.each(async (ctx) => {
  ctx.dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enoki-triggers-'));
});
test.after.each(async ({ dir }) => fs.rm(dir, { recursive: true, force: true }));

test('writes readable JSON and leaves no temporary file behind', async ({ dir }) => {
  const file = path.join(dir, 'triggers.json');
  const store = await FileTriggerStore.open(file);
  await store.add('kv', { id: 't', host: 'h.example:1' });
  assert.equal(JSON.parse(await fs.readFile(file, 'utf8')), { format: 1, triggers: { kv: [{ id: 't', host: 'h.example:1' }] } });
  assert.equal(await fs.readdir(dir), ['triggers.json']);
});

test('a malformed file is refused rather than read as "no triggers"', async ({ dir }) => {
  const file = path.join(dir, 'triggers.json');
  for (const text of ['{', '{"format":2,"triggers":{}}', '{"format":1,"triggers":{"kv":[{"id":1}]}}']) {
    await fs.writeFile(file, text);
    try {
      await FileTriggerStore.open(file);
      assert.unreachable(`opened ${text}`);
    } catch (error) {
      assert.match((error as Error).message, /trigger file .* is malformed/);
    }
  }
});

test('a write that fails leaves the store as it was and later writes still work', async ({ dir }) => {
  const sub = path.join(dir, 'sub');
  await fs.mkdir(sub);
  const file = path.join(sub, 'triggers.json');
  const store = await FileTriggerStore.open(file);
  await store.add('kv', { id: 'a', host: 'a.example:1' });
  await fs.rm(sub, { recursive: true });
  try {
    await store.add('kv', { id: 'b', host: 'b.example:1' });
    assert.unreachable('the write should fail without its directory');
  } catch (error) {
    assert.is((error as NodeJS.ErrnoException).code, 'ENOENT');
  }
  assert.equal(await store.list('kv'), [{ id: 'a', host: 'a.example:1' }]);
  await fs.mkdir(sub);
  await store.add('kv', { id: 'c', host: 'c.example:1' });
  assert.equal(await (await FileTriggerStore.open(file)).list('kv'), [{ id: 'a', host: 'a.example:1' }, { id: 'c', host: 'c.example:1' }]);
});

test.run();
