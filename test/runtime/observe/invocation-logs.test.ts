// InvocationLogs: the last N invocations of each function, newest last, read in pages.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { seededRandom } from '../../helpers/seeded.js';
import { randomUUID } from 'node:crypto';
import { InvocationLogs, type InvocationLog, type NewInvocationLog } from '../../../runtime/observe/invocation-logs.js';
import type { LogLine, LogStream } from '../../../runtime/exec/protocol.js';

function entry(n: number): InvocationLog {
  return {
    invocationId: `inv-${n}`,
    at: new Date(1_700_000_000_000 + n).toISOString(),
    version: 'v1',
    durationMs: n,
    status: 200,
    cold: n === 1,
    lines: [{ stream: 'stdout', message: `line ${n}` }],
    truncated: false,
  };
}

const ids = (list: InvocationLog[]) => list.map((e) => e.invocationId);

test('keeps the newest entries per function, newest last', () => {
  const logs = new InvocationLogs(3);
  for (let n = 1; n <= 5; n++) logs.add('counter', entry(n));
  assert.equal(ids(logs.list('counter')), ['inv-3', 'inv-4', 'inv-5']);
  assert.equal(logs.list('counter')[2].lines, [{ stream: 'stdout', message: 'line 5' }]);
});

test('a function keeps at most its byte budget of log text, dropping the oldest entries', () => {
  const logs = new InvocationLogs(100, 20);
  // Each entry holds 6 or 7 characters ("line N"): three fit in 20, a fourth does not.
  for (let n = 1; n <= 6; n++) logs.add('counter', entry(n));
  assert.equal(ids(logs.list('counter')), ['inv-4', 'inv-5', 'inv-6']);
  // An entry larger than the whole budget is still kept, alone: it is the newest.
  logs.add('counter', { ...entry(7), lines: [{ stream: 'stdout', message: 'x'.repeat(50) }] });
  assert.equal(ids(logs.list('counter')), ['inv-7']);
});

test('functions have separate bounds', () => {
  const logs = new InvocationLogs(2);
  for (let n = 1; n <= 4; n++) logs.add('counter', entry(n));
  logs.add('hello', entry(10));
  assert.equal(ids(logs.list('hello')), ['inv-10']);
  assert.equal(ids(logs.list('counter')), ['inv-3', 'inv-4']);
  assert.equal(logs.list('unknown'), []);
});

test('limit keeps the most recent', () => {
  const logs = new InvocationLogs(10);
  for (let n = 1; n <= 5; n++) logs.add('counter', entry(n));
  assert.equal(ids(logs.list('counter', 2)), ['inv-4', 'inv-5']);
  assert.equal(ids(logs.list('counter', 50)), ['inv-1', 'inv-2', 'inv-3', 'inv-4', 'inv-5']);
  assert.equal(logs.list('counter', 0), []);
});

test('forget drops a function’s entries', () => {
  const logs = new InvocationLogs(10);
  logs.add('counter', entry(1));
  logs.add('hello', entry(2));
  logs.forget('counter');
  assert.equal(logs.list('counter'), []);
  assert.equal(ids(logs.list('hello')), ['inv-2']);
});

test('entries are numbered per function; pages go back with before/next', () => {
  const logs = new InvocationLogs(10);
  for (let n = 1; n <= 25; n++) logs.add('counter', entry(n));
  logs.add('hello', entry(100));
  // Kept: the last 10 (seq 16–25).
  const newest = logs.page('counter', { limit: 4 });
  assert.equal(ids(newest.invocations), ['inv-22', 'inv-23', 'inv-24', 'inv-25']);
  assert.equal(newest.invocations.map((e) => e.seq), [22, 23, 24, 25]);
  assert.is(newest.next, 22);
  const older = logs.page('counter', { limit: 4, before: newest.next });
  assert.equal(ids(older.invocations), ['inv-18', 'inv-19', 'inv-20', 'inv-21']);
  const oldest = logs.page('counter', { limit: 4, before: older.next });
  assert.equal(ids(oldest.invocations), ['inv-16', 'inv-17']);
  assert.is(oldest.next, undefined, 'nothing older is kept');
  assert.equal(logs.page('counter', { before: 16 }), { invocations: [] });
  assert.equal(logs.page('hello').invocations.map((e) => e.seq), [1]);
  // A page of everything kept says there is nothing more.
  assert.is(logs.page('counter').next, undefined);
  assert.is(logs.page('counter').invocations.length, 10);
});


test('entries as the invoker makes them read back as they went in, over many entries, evictions and pages', () => {
  const next = seededRandom(11);
  const streams: LogStream[] = ['stdout', 'stderr', 'debug', 'info', 'warn', 'error'];
  const words = ['hello', 'wörld', '日本語', '\u{1f600}', '', 'x'.repeat(300), 'a\nb'];
  for (const [perFunction, budget] of [[5, Infinity], [300, Infinity], [200, 2000], [37, 500], [1, 10]] as const) {
    const logs = new InvocationLogs(perFunction, budget);
    // The model: every entry in order, with the rule the logs keep (the newest always stays).
    const all: (InvocationLog & { seq: number })[] = [];
    let kept = 0;
    for (let n = 1; n <= 1500; n++) {
      const lines: LogLine[] = Array.from({ length: Math.floor(next() * 4) }, () => ({
        stream: streams[Math.floor(next() * streams.length)],
        message: words[Math.floor(next() * words.length)] + n,
      }));
      const at = 1_700_000_000_000 + n * 7;
      const entry: NewInvocationLog = {
        invocationId: next() < 0.95 ? randomUUID() : `nested-${n}`,
        at,
        version: `v${1 + (n % 3)}`,
        durationMs: Math.round(next() * 1e6) / 1000,
        status: next() < 0.9 ? 200 : 502,
        cold: next() < 0.1,
        lines,
        truncated: next() < 0.05,
        caller: next() < 0.1 ? randomUUID() : undefined,
        error: next() < 0.1 ? { code: 'ERR_GUEST_TRAP', message: `trap ${n}` } : undefined,
      };
      const expected = { ...entry, at: new Date(at).toISOString(), seq: n };
      logs.add('fn', entry);
      all.push(expected);
      kept++;
      const text = (e: InvocationLog) => (e.error?.message.length ?? 0) + e.lines.reduce((sum, l) => sum + l.message.length, 0);
      const window = () => all.slice(all.length - kept);
      while (kept > 1 && (kept > perFunction || window().reduce((sum, e) => sum + text(e), 0) > budget)) kept--;
      if (n % 97 === 0 || n > 1490) {
        const everything = logs.page('fn', { limit: 10_000 });
        assert.equal(JSON.parse(JSON.stringify(everything.invocations)), JSON.parse(JSON.stringify(window())), `after ${n} (${perFunction}, ${budget})`);
        assert.is(everything.next, undefined);
        // A page somewhere in the middle.
        const before = window()[0].seq + Math.floor(next() * (kept + 2));
        const limit = 1 + Math.floor(next() * 5);
        const page = logs.page('fn', { limit, before });
        const older = window().filter((e) => e.seq < before);
        assert.equal(page.invocations.map((e) => e.seq), older.slice(-limit).map((e) => e.seq));
        assert.is(page.next, older.length > limit ? older[older.length - limit].seq : undefined);
      }
    }
  }
});

test.run();
