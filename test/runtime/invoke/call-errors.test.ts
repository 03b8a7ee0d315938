// The call-error a calling guest sees for each way a callee can fail.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { EnokiError, type ErrorCode } from '../../../runtime/errors.js';
import { toCallError } from '../../../runtime/invoke/call-errors.js';

const cases: [ErrorCode, string][] = [
  ['ERR_FUNCTION_NOT_FOUND', 'not-found'],
  ['ERR_GUEST_TRAP', 'failed'],
  ['ERR_GUEST_ERROR', 'failed'],
  ['ERR_GUEST_BAD_RESPONSE', 'failed'],
  ['ERR_MEMORY_LIMIT', 'failed'],
  ['ERR_KEYGROUP_NOT_FOUND', 'failed'],
  ['ERR_TIMEOUT', 'timeout'],
  ['ERR_OVERLOADED', 'overloaded'],
  ['ERR_CALL_TOO_DEEP', 'too-deep'],
  ['ERR_CALL_UNAVAILABLE', 'unavailable'],
  ['ERR_SHUTTING_DOWN', 'unavailable'],
  ['ERR_COMMIT_FAILED', 'unavailable'],
];

test('each callee failure maps to its call-error, the message led by the code', () => {
  for (const [code, tag] of cases) {
    const error = toCallError(new EnokiError(code, 'what happened'));
    assert.equal(error, { tag, val: `${code}: what happened` }, code);
  }
});

test('an unexpected exception is the node failing: unavailable, ERR_INTERNAL', () => {
  assert.equal(toCallError(new TypeError('oops')), { tag: 'unavailable', val: 'ERR_INTERNAL: oops' });
});

test.run();
