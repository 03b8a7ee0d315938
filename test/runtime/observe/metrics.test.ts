// Metrics as a Prometheus scraper sees them: per-function counters, error codes and a
// well-formed cumulative latency histogram.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { Metrics } from '../../../runtime/observe/metrics.js';

/** Sample lines of the text format: `name{labels} value` → value, keyed by `name{labels}`. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

function buckets(text: string, fn: string): { le: string; count: number }[] {
  const prefix = `enoki_invocation_duration_seconds_bucket{fn="${fn}",le="`;
  return text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .map((l) => ({ le: l.slice(prefix.length, l.indexOf('"', prefix.length)), count: Number(l.split(' ').pop()) }));
}

function recorded(): Metrics {
  const metrics = new Metrics();
  metrics.record({ fn: 'counter', durationMs: 3, cold: true });
  metrics.record({ fn: 'counter', durationMs: 0.1, cold: false });
  metrics.record({ fn: 'counter', durationMs: 40_000, cold: false, errorCode: 'ERR_TIMEOUT' });
  metrics.record({ fn: 'counter', durationMs: 700, cold: false, errorCode: 'ERR_TIMEOUT' });
  metrics.record({ fn: 'counter', durationMs: 12, cold: false, errorCode: 'ERR_GUEST_TRAP' });
  metrics.record({ fn: 'hello', durationMs: 1, cold: true });
  return metrics;
}

test('counters per function and per error code', () => {
  const s = samples(recorded().render({}));
  assert.is(s.get('enoki_invocations_total{fn="counter"}'), 5);
  assert.is(s.get('enoki_invocations_total{fn="hello"}'), 1);
  assert.is(s.get('enoki_invocation_errors_total{fn="counter",code="ERR_TIMEOUT"}'), 2);
  assert.is(s.get('enoki_invocation_errors_total{fn="counter",code="ERR_GUEST_TRAP"}'), 1);
  assert.is(s.get('enoki_invocation_errors_total{fn="hello",code="ERR_TIMEOUT"}'), undefined);
  assert.is(s.get('enoki_cold_starts_total{fn="counter"}'), 1);
  assert.is(s.get('enoki_cold_starts_total{fn="hello"}'), 1);
});

test('histogram buckets are cumulative, in seconds, and end with +Inf = count', () => {
  const text = recorded().render({});
  const list = buckets(text, 'counter');
  assert.ok(list.length > 2);
  for (let i = 1; i < list.length; i++) {
    assert.ok(list[i].count >= list[i - 1].count, `bucket le=${list[i].le} is below the one before`);
    if (list[i].le !== '+Inf') assert.ok(Number(list[i].le) > Number(list[i - 1].le));
  }
  const last = list[list.length - 1];
  assert.is(last.le, '+Inf');
  const s = samples(text);
  assert.is(last.count, s.get('enoki_invocation_duration_seconds_count{fn="counter"}'));
  assert.is(last.count, 5);
  const at = (le: string) => list.find((b) => b.le === le)?.count;
  assert.is(at('0.00025'), 1); // 0.1 ms
  assert.is(at('0.0025'), 1); // 3 ms is not ≤ 2.5 ms
  assert.is(at('0.005'), 2);
  assert.is(at('0.025'), 3);
  assert.is(at('1'), 4);
  assert.is(at('30'), 4); // 40 s is only in +Inf
  assert.ok(Math.abs(s.get('enoki_invocation_duration_seconds_sum{fn="counter"}')! - 40.7151) < 1e-9);
});

test('every family has HELP and TYPE, and caller gauges are rendered', () => {
  const text = recorded().render({ enoki_workers_busy: 3 });
  assert.match(text, '# TYPE enoki_invocations_total counter');
  assert.match(text, '# TYPE enoki_invocation_duration_seconds histogram');
  assert.match(text, '# TYPE enoki_workers_busy gauge');
  assert.match(text, /# HELP enoki_workers_busy .+/);
  assert.is(samples(text).get('enoki_workers_busy'), 3);
  assert.ok(samples(text).get('enoki_uptime_seconds')! >= 0);
  assert.ok(text.endsWith('\n'));
});

test('label values are escaped', () => {
  const metrics = new Metrics();
  metrics.record({ fn: 'a"b\\c\nd', durationMs: 1, cold: false });
  assert.match(metrics.render({}), 'enoki_invocations_total{fn="a\\"b\\\\c\\nd"} 1');
});

test('summary and forget', () => {
  const metrics = recorded();
  assert.equal(metrics.summary('hello'), { invocations: 1, errors: 0, coldStarts: 1, meanMs: 1 });
  const counter = metrics.summary('counter');
  assert.is(counter.errors, 3);
  assert.ok(Math.abs(counter.meanMs - 40715.1 / 5) < 1e-9);
  assert.equal(metrics.summary('nope'), { invocations: 0, errors: 0, coldStarts: 0, meanMs: 0 });
  metrics.forget('counter');
  assert.not.match(metrics.render({}), 'fn="counter"');
  assert.match(metrics.render({}), 'fn="hello"');
});

test.run();
