// InvocationLogs: the last N invocations of each function, newest last, read in pages.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { InvocationLogs, type InvocationLog } from '../../../runtime/observe/invocation-logs.js';

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

test.run();
