// The inline engine's clock pollables (wasi:clocks/monotonic-clock subscribe-duration and
// subscribe-instant): once `block` or `poll` has waited for one, it is ready, never earlier, by the
// monotonic clock the guest reads. Timers fire in whole milliseconds counted from the event
// loop's cached time, so a wait of 1.5 ms or 49.99 ms on a bare timer can end before its instant,
// and a Rust guest's thread::sleep would then have slept less than it asked.
import { test } from '../../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { Pollable } from '../../../../runtime/exec/inline/streams.js';

const MS = 1_000_000n;

test('a clock pollable is ready once its wait ends, for durations between whole milliseconds', async () => {
  const early: string[] = [];
  for (const ns of [300_000n, 1_500_000n, 2_999_999n, 7_900_000n, 49_990_000n]) {
    for (let round = 0; round < 5; round++) {
      const at = process.hrtime.bigint() + ns;
      const pollable = new Pollable(at);
      await pollable.wait();
      const now = process.hrtime.bigint();
      if (now < at || !pollable.ready()) early.push(`${Number(ns) / 1e6} ms: ended ${Number(at - now) / 1e6} ms early`);
    }
  }
  assert.equal(early, []);
});

test('a clock pollable whose instant has passed is ready and its wait ends at once', async () => {
  const pollable = new Pollable(process.hrtime.bigint() - MS);
  assert.ok(pollable.ready());
  const t = process.hrtime.bigint();
  await pollable.wait();
  assert.ok(process.hrtime.bigint() - t < 1000n * MS, 'the wait of a ready pollable ended');
});

test.run();
