// The Outbox contract as one uvu suite; every implementation runs it through a factory.
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import type { Outbox, OutboxEntry } from '../../../replication/engine/outbox.js';

export interface OutboxHarness {
  outbox: Outbox;
  /** Closes the outbox and opens it again on the same data; returns the outbox to use from then on. */
  reopen: () => Promise<Outbox>;
  cleanup: () => Promise<void>;
}

export type OutboxFactory = () => Promise<OutboxHarness>;

export const entry = (id: string, overrides: Partial<OutboxEntry> = {}): OutboxEntry => ({
  keygroup: 'kv',
  id,
  value: `value-${id}`,
  tombstone: false,
  version: { A: 1 },
  writtenAt: 1_700_000_000_000,
  ...overrides,
});

const ids = (records: { entry: OutboxEntry }[]) => records.map((r) => r.entry.id);

export function runOutboxConformance(name: string, factory: OutboxFactory): void {
  const test = suite<{ h: OutboxHarness; outbox: Outbox }>(`${name} conformance`);
  test.before.each(async (ctx) => {
    ctx.h = await factory();
    ctx.outbox = ctx.h.outbox;
  });
  test.after.each(async (ctx) => {
    await ctx.h.cleanup();
  });

  test('entries come back per peer, oldest first, with increasing seqs', async ({ outbox }) => {
    const a1 = await outbox.append('B', entry('1'));
    const c1 = await outbox.append('C', entry('2'));
    const a2 = await outbox.append('B', entry('3', { tombstone: true, value: '', version: { A: 2, B: 1 } }));
    assert.ok(a1 > 0 && c1 > a1 && a2 > c1, `${a1} ${c1} ${a2}`);
    const b = await outbox.peek('B', 10);
    assert.equal(b.map((r) => r.seq), [a1, a2]);
    assert.equal(b[1]!.entry, entry('3', { tombstone: true, value: '', version: { A: 2, B: 1 } }));
    assert.equal(ids(await outbox.peek('C', 10)), ['2']);
    assert.equal(await outbox.peek('D', 10), []);
    assert.equal(ids(await outbox.peek('B', 1)), ['1']);
  });

  test('peek does not remove; ack removes up to a seq and is idempotent', async ({ outbox }) => {
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) seqs.push(await outbox.append('B', entry(String(i))));
    await outbox.append('C', entry('other'));
    assert.equal(ids(await outbox.peek('B', 10)), ['0', '1', '2', '3', '4']);
    await outbox.ack('B', seqs[2]!);
    assert.equal(ids(await outbox.peek('B', 10)), ['3', '4']);
    await outbox.ack('B', seqs[2]!);
    await outbox.ack('B', seqs[0]!);
    assert.equal(ids(await outbox.peek('B', 10)), ['3', '4']);
    assert.equal(ids(await outbox.peek('C', 10)), ['other'], 'other peers are untouched');
    await outbox.ack('B', Number.MAX_SAFE_INTEGER);
    assert.equal(await outbox.peek('B', 10), []);
  });

  test('peers lists peers with unacked entries, in order', async ({ outbox }) => {
    assert.equal(await outbox.peers(), []);
    const seq = await outbox.append('node:with,odd!chars', entry('1'));
    await outbox.append('B', entry('2'));
    await outbox.append('B!', entry('3'));
    assert.equal(await outbox.peers(), ['B', 'B!', 'node:with,odd!chars']);
    // A peer id that prefixes another never shares its entries.
    assert.equal(ids(await outbox.peek('B', 10)), ['2']);
    await outbox.ack('node:with,odd!chars', seq);
    assert.equal(await outbox.peers(), ['B', 'B!']);
  });

  test('stored entries are copies', async ({ outbox }) => {
    const e = entry('1');
    await outbox.append('B', e);
    e.version.A = 99;
    const [record] = await outbox.peek('B', 1);
    assert.equal(record!.entry.version, { A: 1 });
    record!.entry.version.A = 42;
    assert.equal((await outbox.peek('B', 1))[0]!.entry.version, { A: 1 });
  });

  test('invalid arguments are rejected with ERR_INVALID_ARGUMENT', async ({ outbox }) => {
    for (const call of [() => outbox.append('', entry('1')), () => outbox.peek('B', 0), () => outbox.ack('B', -1)]) {
      try {
        await call();
        assert.unreachable('should have thrown');
      } catch (error) {
        assert.is((error as { code?: string }).code, 'ERR_INVALID_ARGUMENT');
      }
    }
  });

  test('entries and seqs survive reopening; seqs are never reused', async (ctx) => {
    const first = await ctx.outbox.append('B', entry('1'));
    const second = await ctx.outbox.append('B', entry('2'));
    await ctx.outbox.ack('B', first);
    let outbox = (ctx.outbox = await ctx.h.reopen());
    assert.equal((await outbox.peek('B', 10)).map((r) => [r.seq, r.entry.id]), [[second, '2']]);
    assert.equal(await outbox.peers(), ['B']);
    await outbox.ack('B', second);
    outbox = ctx.outbox = await ctx.h.reopen();
    assert.equal(await outbox.peers(), []);
    assert.ok((await outbox.append('C', entry('3'))) > second);
  });

  test('a closed outbox refuses calls with ERR_OUTBOX_CLOSED', async ({ outbox }) => {
    await outbox.close();
    try {
      await outbox.append('B', entry('1'));
      assert.unreachable('should have thrown');
    } catch (error) {
      assert.is((error as { code?: string }).code, 'ERR_OUTBOX_CLOSED');
    }
    await outbox.open();
  });

  test.run();
}
