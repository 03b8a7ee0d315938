// DeadlineWatch: one timer for every inline call in flight; each call expires at its own deadline,
// not before, and an unwatched call never does.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeadlineWatch } from '../../../runtime/exec/inline/deadline-watch.js';

test('each call expires once its own deadline has passed, in deadline order', async () => {
  const watch = new DeadlineWatch();
  const t0 = performance.now();
  const expired: [string, number][] = [];
  watch.watch(t0 + 60, () => expired.push(['late', performance.now() - t0]));
  // Earlier than the one the timer waits for: the timer is re-armed for it.
  watch.watch(t0 + 20, () => expired.push(['early', performance.now() - t0]));
  await sleep(120);
  assert.equal(expired.map(([name]) => name), ['early', 'late']);
  assert.ok(expired[0][1] >= 20, `early expired after ${expired[0][1]} ms`);
  assert.ok(expired[1][1] >= 60, `late expired after ${expired[1][1]} ms`);
  assert.is(watch.size, 0);
});

test('an unwatched call never expires; the others still do', async () => {
  const watch = new DeadlineWatch();
  const t0 = performance.now();
  const expired: string[] = [];
  const first = watch.watch(t0 + 15, () => expired.push('first'));
  watch.watch(t0 + 30, () => expired.push('second'));
  watch.unwatch(first);
  await sleep(80);
  assert.equal(expired, ['second']);
  assert.is(watch.size, 0);
});

test('calls that end in any order leave the others watched, each expiring once', async () => {
  const watch = new DeadlineWatch();
  const t0 = performance.now();
  const expired: number[] = [];
  const entries = Array.from({ length: 40 }, (_, i) => watch.watch(t0 + 30 + (i % 5), () => expired.push(i)));
  // Every third ends before its deadline, from the middle, the front and the back of the list.
  const ended = entries.map((_, i) => i).filter((i) => i % 3 === 0);
  for (const i of [...ended].reverse()) watch.unwatch(entries[i]);
  // Ending one twice changes nothing.
  watch.unwatch(entries[0]);
  assert.is(watch.size, 40 - ended.length);
  await sleep(90);
  const expected = entries.map((_, i) => i).filter((i) => i % 3 !== 0);
  assert.equal([...expired].sort((a, b) => a - b), expected);
  assert.is(watch.size, 0);
  // An entry that expired and is then unwatched (its call ended just after) changes nothing.
  watch.unwatch(entries[1]);
  assert.is(watch.size, 0);
});

test('a watch alone does not keep the process alive (its timer is unreferenced)', () => {
  const watch = new DeadlineWatch();
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const entry = watch.watch(performance.now() + 60_000, () => undefined);
  // getActiveResourcesInfo lists the timers that keep the loop alive.
  assert.is(timers(), before);
  watch.unwatch(entry);
});

test.run();
