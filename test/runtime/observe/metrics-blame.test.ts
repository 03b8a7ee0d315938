// Failures are counted by whose fault they were: a crashed worker or a failed commit is the
// host's, never a guest trap, and an unknown code is the host's too.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { Metrics } from '../../../runtime/observe/metrics.js';

test('enoki_invocation_failures_total splits failures by blame', () => {
  const m = new Metrics();
  m.record({ fn: 'f', durationMs: 1, cold: false, errorCode: 'ERR_GUEST_TRAP' });
  m.record({ fn: 'f', durationMs: 1, cold: false, errorCode: 'ERR_TIMEOUT' });
  m.record({ fn: 'f', durationMs: 1, cold: false, errorCode: 'ERR_WORKER_CRASHED' });
  m.record({ fn: 'f', durationMs: 1, cold: false, errorCode: 'ERR_COMMIT_FAILED' });
  m.record({ fn: 'f', durationMs: 1, cold: false, errorCode: 'ERR_CALL_UNAVAILABLE' });
  m.record({ fn: 'f', durationMs: 1, cold: false });
  const text = m.render({});
  assert.match(text, /^enoki_invocation_failures_total\{fn="f",blame="guest"\} 2$/m);
  assert.match(text, /^enoki_invocation_failures_total\{fn="f",blame="host"\} 2$/m);
  assert.match(text, /^enoki_invocation_failures_total\{fn="f",blame="peer"\} 1$/m);
  assert.match(text, /^enoki_invocation_errors_total\{fn="f",code="ERR_WORKER_CRASHED"\} 1$/m);
});

test.run();
