// LevelOutbox: the conformance suite on a temporary directory, and durability across a crash.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from '../../helpers/suite.js';
import { runThenKill, withTempDir } from '../../helpers/killed-child.js';
import * as assert from 'uvu/assert';
import { LevelOutbox, TAIL_ENTRIES } from '../../../replication/engine/level-outbox.js';
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

const OUTBOX = { LevelOutbox: new URL('../../../replication/engine/level-outbox.js', import.meta.url).href };

crash('entries acknowledged before the process died stay acknowledged: the journal replays the acks too', () =>
  withTempDir('enoki-outbox-', async (location) => {
    // Appends and acks in one turn of the loop: LevelDB has none of them, the journal all.
    runThenKill(
      OUTBOX,
      `const outbox = new LevelOutbox({ location: ${JSON.stringify(location)} });
       await outbox.open();
       const entries = ${JSON.stringify([entry('x', { value: 'acked' }), entry('y', { value: 'acked too' }), entry('z', { value: 'owed' })])};
       const seqs = [];
       for (const e of entries) seqs.push(await outbox.append('B', e));
       await outbox.ack('B', seqs[1]);`,
    );
    const outbox = new LevelOutbox({ location });
    await outbox.open();
    assert.equal(await outbox.peers(), ['B']);
    assert.equal((await outbox.peek('B', 10)).map((r) => r.entry.id), ['z']);
    await outbox.close();
  }),
);

crash('entries appended before the process died are delivered by the restarted node', () =>
  withTempDir('enoki-outbox-', async (location) => {
    // A separate process appends and then is killed without closing the database.
    runThenKill(
      OUTBOX,
      `const outbox = new LevelOutbox({ location: ${JSON.stringify(location)} });
       await outbox.open();
       const entries = ${JSON.stringify([entry('x', { value: 'before-crash', version: { A: 1 } }), entry('y', { value: 'also', version: { A: 1 } })])};
       for (const e of entries) await outbox.append('B', e);`,
    );
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
  }),
);

crash.run();

// Peeks answer from an in-memory copy of what this process appended, and from LevelDB for what
// it did not (entries left from before a restart, a backlog past the copy's bounds): either
// way a peer gets every entry, once, in order.
const tail = suite<{ location: string; outbox: LevelOutbox }>('LevelOutbox peeks from memory and from LevelDB');

tail.before.each(async (ctx) => {
  ctx.location = await mkdtemp(join(tmpdir(), 'enoki-outbox-'));
  ctx.outbox = new LevelOutbox({ location: ctx.location });
  await ctx.outbox.open();
});
tail.after.each(async (ctx) => {
  await ctx.outbox.close();
  await rm(ctx.location, { recursive: true, force: true });
});

/** Peeks and acks in batches until the peer has nothing left; returns the values in the order delivered. */
async function drain(outbox: LevelOutbox, peer: string, batch: number): Promise<string[]> {
  const delivered: string[] = [];
  for (;;) {
    const records = await outbox.peek(peer, batch);
    if (records.length === 0) return delivered;
    delivered.push(...records.map((r) => r.entry.value));
    await outbox.ack(peer, records.at(-1)!.seq);
  }
}

tail('entries left from before a restart come first, then new ones; later ones after the catch-up too', async (ctx) => {
  for (const v of ['old1', 'old2']) await ctx.outbox.append('B', entry(v, { value: v }));
  await ctx.outbox.close();
  ctx.outbox = new LevelOutbox({ location: ctx.location });
  await ctx.outbox.open();
  for (const v of ['new1', 'new2']) await ctx.outbox.append('B', entry(v, { value: v }));
  assert.equal(await drain(ctx.outbox, 'B', 3), ['old1', 'old2', 'new1', 'new2']);
  for (const v of ['later1', 'later2']) await ctx.outbox.append('B', entry(v, { value: v }));
  await ctx.outbox.append('C', entry('other', { value: 'for C' }));
  assert.equal(await drain(ctx.outbox, 'B', 1), ['later1', 'later2']);
  assert.equal(await drain(ctx.outbox, 'C', 10), ['for C']);
});

tail('a backlog larger than the in-memory copy is delivered whole and in order', async ({ outbox }) => {
  const n = TAIL_ENTRIES + 20;
  for (let i = 0; i < n; i++) await outbox.append('B', entry(`i${i}`, { value: String(i) }));
  const delivered = await drain(outbox, 'B', 1000);
  assert.equal(delivered, Array.from({ length: n }, (_, i) => String(i)));
  await outbox.append('B', entry('after', { value: 'after' }));
  assert.equal(await drain(outbox, 'B', 10), ['after']);
});

tail('a peeked entry is a copy: changing it changes nothing queued', async ({ outbox }) => {
  await outbox.append('B', entry('x', { value: 'kept' }));
  const [first] = await outbox.peek('B', 1);
  first!.entry.value = 'changed';
  assert.is((await outbox.peek('B', 1))[0]!.entry.value, 'kept');
});

tail.run();
