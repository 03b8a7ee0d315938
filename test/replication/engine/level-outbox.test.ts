// LevelOutbox: the conformance suite on a temporary directory, and durability across a crash.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { LevelOutbox } from '../../../replication/engine/level-outbox.js';
import { Cluster } from './cluster.js';
import { entry, runOutboxConformance } from './outbox-conformance.js';

runOutboxConformance('LevelOutbox', async () => {
  const location = await mkdtemp(join(tmpdir(), 'enoki-outbox-'));
  let outbox = new LevelOutbox({ location });
  await outbox.open();
  return {
    outbox,
    // A new instance on the same directory: only what reached LevelDB comes back.
    reopen: async () => {
      await outbox.close();
      outbox = new LevelOutbox({ location });
      await outbox.open();
      return outbox;
    },
    cleanup: async () => {
      await outbox.close();
      await rm(location, { recursive: true, force: true });
    },
  };
});

const crash = suite('LevelOutbox after a crash');

crash('entries appended before the process died are delivered by the restarted node', async () => {
  const location = await mkdtemp(join(tmpdir(), 'enoki-outbox-'));
  try {
    // A separate process appends and then is killed without closing the database.
    const moduleUrl = new URL('../../../replication/engine/level-outbox.js', import.meta.url).href;
    const script = `
      const { LevelOutbox } = await import(${JSON.stringify(moduleUrl)});
      const outbox = new LevelOutbox({ location: ${JSON.stringify(location)} });
      await outbox.open();
      const entries = ${JSON.stringify([entry('x', { value: 'before-crash', version: { A: 1 } }), entry('y', { value: 'also', version: { A: 1 } })])};
      for (const e of entries) await outbox.append('B', e);
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.is(child.signal, 'SIGKILL', child.stderr);

    const c = await Cluster.start(['A', 'B']);
    await c.createKeygroup('kv', ['A', 'B']);
    const outbox = new LevelOutbox({ location });
    await c.restart('A', { outbox });
    // LevelDB does real I/O, which fake time cannot hurry: give it real time as well.
    for (let i = 0; i < 1_000 && (await outbox.peers()).length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      await c.run(10);
    }
    assert.equal((await c.node('B').store.read('kv', 'x')).map((s) => s.value), ['before-crash']);
    assert.equal((await c.node('B').store.read('kv', 'y')).map((s) => s.value), ['also']);
    assert.equal(await outbox.peers(), []);
    // The seq counter continued past the entries of the crashed process.
    assert.ok((await outbox.append('B', entry('z'))) > 2);
    await c.stop();
    await outbox.close();
  } finally {
    await rm(location, { recursive: true, force: true });
  }
});

crash.run();
