// Meter's account of how long a call holds the event loop (heldMs), which offloading judges a
// function by: from the call's begin to its end, less the time it waits for the host.
import { test } from '../../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { Meter } from '../../../../runtime/exec/inline/meter.js';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test('a call holds the loop while it runs, not while it waits for the host', async () => {
  const meter = new Meter(5);
  meter.begin(performance.now() + 10_000);
  busy(20);
  meter.pause();
  await new Promise((r) => setTimeout(r, 300));
  meter.resume();
  busy(20);
  meter.end();
  // 40 ms of running; the 300 ms wait is not counted (the bound leaves room for a busy machine).
  assert.ok(meter.heldMs >= 40 && meter.heldMs < 300, `held ${meter.heldMs.toFixed(1)} ms`);
  // Ended: the figure stays as it was.
  const held = meter.heldMs;
  await new Promise((r) => setTimeout(r, 20));
  assert.is(meter.heldMs, held);
});

test('each call starts its own account; a second pause or resume changes nothing', () => {
  const meter = new Meter(5);
  meter.begin(performance.now() + 10_000);
  busy(30);
  meter.end();
  meter.begin(performance.now() + 10_000);
  busy(5);
  meter.resume();
  meter.pause();
  meter.pause();
  meter.end();
  assert.ok(meter.heldMs >= 5 && meter.heldMs < 30, `held ${meter.heldMs.toFixed(1)} ms`);
});

test.run();
