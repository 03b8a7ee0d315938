// The write journal: its record format, and a LevelReplicaStore killed between acknowledging
// writes and LevelDB holding them (a child process, SIGKILLed in the same turn of the loop in
// which its last write was acknowledged, before the background batch can start).
import { appendFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import * as assert from 'uvu/assert';
import { suite } from '../../helpers/suite.js';
import { runThenKill, withTempDir } from '../../helpers/killed-child.js';
import { JournalFile, encodeRecord, parseJournal } from '../../../replication/support/journal-file.js';
import { LevelReplicaStore } from '../../../replication/store/level-store.js';

const JOURNAL = 'enoki-journal';

const file = suite('JournalFile');

file('batches come back in order, each whole', () => {
  const dir = mkdtempSync(join(tmpdir(), 'enoki-journal-'));
  const path = join(dir, JOURNAL);
  const first = JournalFile.open(path);
  assert.equal(first.batches, []);
  first.file.append([['a', '1'], ['b', 'ü "quoted"']]);
  first.file.append([['a', '2']]);
  first.file.close();
  const again = JournalFile.open(path);
  assert.equal(again.batches, [[['a', '1'], ['b', 'ü "quoted"']], [['a', '2']]]);
  again.file.reset();
  assert.is(statSync(path).size, 0);
  again.file.close();
  assert.equal(JournalFile.open(path).batches, []);
});

file('a torn last record ends the journal and is cut off before the next append', () => {
  const dir = mkdtempSync(join(tmpdir(), 'enoki-journal-'));
  const path = join(dir, JOURNAL);
  const whole = encodeRecord([['a', '1']]);
  const torn = encodeRecord([['b', '2']]).subarray(0, 11);
  writeFileSync(path, Buffer.concat([whole, torn]));
  const opened = JournalFile.open(path);
  assert.equal(opened.batches, [[['a', '1']]]);
  assert.is(statSync(path).size, whole.length);
  opened.file.append([['c', '3']]);
  opened.file.close();
  assert.equal(JournalFile.open(path).batches, [[['a', '1']], [['c', '3']]]);
});

file('a record failing its checksum ends the journal', () => {
  const good = encodeRecord([['a', '1']]);
  const bad = encodeRecord([['b', '2']]);
  bad[bad.length - 2] ^= 0xff;
  const after = encodeRecord([['c', '3']]);
  const parsed = parseJournal(Buffer.concat([good, bad, after]));
  assert.equal(parsed.batches, [[['a', '1']]]);
  assert.is(parsed.validBytes, good.length);
});

file.run();

const crash = suite('LevelReplicaStore killed before LevelDB has its writes');

const STORE = { LevelReplicaStore: new URL('../../../replication/store/level-store.js', import.meta.url).href };

/** Runs `body` against an open store in a child process that SIGKILLs itself right after. */
function killedAfter(location: string, body: string): void {
  runThenKill(
    STORE,
    `const store = new LevelReplicaStore({ location: ${JSON.stringify(location)}, nodeId: 'A' });
     await store.open();
     ${body}`,
  );
}

/** The store on `location` after the crash, for `check`; closed afterwards. */
async function reopened(location: string, check: (store: LevelReplicaStore) => Promise<void>): Promise<void> {
  const store = new LevelReplicaStore({ location, nodeId: 'A' });
  await store.open();
  try {
    await check(store);
  } finally {
    await store.close();
  }
}

crash('every acknowledged write is there after the restart, replayed from the journal', () =>
  withTempDir('enoki-level-journal-', async (location) => {
    killedAfter(
      location,
      `await store.createKeygroup({ name: 'kv', mutable: true, expiry: 0 });
       for (let i = 0; i < 50; i++) await store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'n', value: String(i) }, { kind: 'set', keygroup: 'kv', id: 'k' + i, value: 'v' + i }]);
       const [first] = await store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'c', value: 'first' }]);
       await store.applyConditional({ kind: 'set', keygroup: 'kv', id: 'c', value: 'cas' }, [first.sibling.version]);`,
    );
    // The premise: the writes ran in one turn of the loop (no I/O between them), so LevelDB got
    // none of them and they are only in the journal.
    assert.ok(statSync(join(location, JOURNAL)).size > 0, 'the journal is empty');
    const raw = new ClassicLevel<string, string>(location);
    assert.equal(await raw.keys({ gte: 'i!', lt: 'i"' }).all(), [], 'LevelDB already had the items: the test did not kill the store early enough');
    await raw.close();
    await reopened(location, async (store) => {
      assert.is(store.replayedBatches, 52); // the 50 batches, c's first write and its conditional update
      assert.equal((await store.read('kv', 'n')).map((s) => [s.value, s.version]), [['49', { A: 50 }]]);
      assert.equal((await store.read('kv', 'c')).map((s) => s.value), ['cas']);
      assert.is((await store.scan('kv', { start: '', count: 100 })).length, 52); // k0..k49, n, c
      // Replayed into LevelDB and the journal emptied.
      assert.is(statSync(join(location, JOURNAL)).size, 0);
    });
    const replayed = new ClassicLevel<string, string>(location);
    assert.ok((await replayed.get('i!kv!k49')) !== undefined);
    await replayed.close();
    // A clean stop leaves nothing to replay.
    await reopened(location, async (store) => assert.is(store.replayedBatches, 0));
  }),
);

crash('a keygroup deleted and created again does not get its old items back from the journal', () =>
  withTempDir('enoki-level-journal-', async (location) => {
    killedAfter(
      location,
      `await store.createKeygroup({ name: 'kv', mutable: true, expiry: 0 });
       for (let i = 0; i < 20; i++) await store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'old' + i, value: 'x' }]);
       await store.deleteKeygroup('kv');
       await store.createKeygroup({ name: 'kv', mutable: true, expiry: 0 });
       await store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'new', value: 'y' }]);`,
    );
    await reopened(location, async (store) => {
      assert.equal((await store.scan('kv', { start: '', count: 100 })).map((item) => item.id), ['new']);
    });
  }),
);

crash('a torn record at the end (a write that was never acknowledged) is dropped; the rest replays', () =>
  withTempDir('enoki-level-journal-', async (location) => {
    killedAfter(
      location,
      `await store.createKeygroup({ name: 'kv', mutable: true, expiry: 0 });
       await store.applyLocal([{ kind: 'set', keygroup: 'kv', id: 'a', value: 'kept' }]);`,
    );
    const journal = join(location, JOURNAL);
    assert.ok(readFileSync(journal).length > 0);
    appendFileSync(journal, encodeRecord([['i!kv!b', '[["lost",{"A":1},0,0]]']]).subarray(0, 12));
    await reopened(location, async (store) => {
      assert.equal((await store.read('kv', 'a')).map((s) => s.value), ['kept']);
      assert.equal(await store.read('kv', 'b'), []);
    });
  }),
);

crash.run();
