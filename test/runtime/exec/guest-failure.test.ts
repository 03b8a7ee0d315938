// What a trap's message quotes of the guest's stderr (exec/guest-failure.ts): enough of both ends
// that the cause is there whichever end a language writes it to; and when a failure is the
// instance running out of memory.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { describeFailure, guestError } from '../../../runtime/exec/guest-failure.js';
import type { LogLine } from '../../../runtime/exec/protocol.js';

const stderr = (...lines: string[]): LogLine[] => lines.map((message) => ({ stream: 'stderr', message }));
const LIMIT = 2 ** 27;
const EMPTY = { heldBytes: 0, limitBytes: LIMIT, grew: false };
const trap = (logs: LogLine[]) => describeFailure(new Error('unreachable'), EMPTY, logs);

test("a Python traceback's exception is quoted, its frames are not", () => {
  // As componentize-py's runtime writes it: the traceback, then its own panic.
  const failure = trap(
    stderr(
      'Traceback (most recent call last):',
      '  File "/0/app.py", line 14, in handle',
      '  File "/0/app.py", line 28, in handle_async',
      'ValueError: boom',
      '',
      "thread '<unnamed>' (1) panicked at runtime/src/lib.rs:1280:25:",
      'Python function threw an unexpected exception',
      'note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace',
    ),
  );
  assert.is(failure.kind, 'trap');
  assert.is(
    failure.message,
    "unreachable (stderr: Traceback (most recent call last): | ValueError: boom | thread '<unnamed>' (1) panicked at runtime/src/lib.rs:1280:25: | Python function threw an unexpected exception)",
  );
});

test('of many lines, the first and the last two', () => {
  const { message } = trap(stderr('first', 'a', 'b', 'c', 'd', 'last'));
  assert.is(message, 'unreachable (stderr: first | … 3 more lines … | d | last)');
});

test('a few lines are quoted whole; stdout and blank lines are not; long lines are cut', () => {
  const logs: LogLine[] = [
    { stream: 'stdout', message: 'handling /' },
    ...stderr("thread '<unnamed>' panicked at src/lib.rs:9:5:", '', 'boom', 'x'.repeat(1000)),
  ];
  const { message } = trap(logs);
  assert.ok(message.startsWith("unreachable (stderr: thread '<unnamed>' panicked at src/lib.rs:9:5: | boom | xxx"), message);
  assert.ok(message.endsWith('x…)'), message);
  assert.ok(message.length < 400, String(message.length));
  assert.is(trap([]).message, 'unreachable');
  assert.is(trap([{ stream: 'stdout', message: 'only stdout' }]).message, 'unreachable');
});

test("a guest's own error keeps its message, whatever it wrote to stderr", () => {
  const err = Object.assign(new Error('x'), { failure: 'error' as const });
  assert.is(describeFailure(err, EMPTY, stderr('noise')).message, 'x');
});

test('a trap is the memory limit when its call grew the memory to near the cap, not when an earlier call did', () => {
  const full = LIMIT - 65536;
  const grown = describeFailure(new Error('unreachable'), { heldBytes: full, limitBytes: LIMIT, grew: true }, []);
  assert.is(grown.kind, 'memory');
  assert.is(grown.message, "out of memory at the instance's limit of 128 MiB (unreachable)");
  // A C guest that went on after a malloc failed, then called abort(): its own trap.
  const left = describeFailure(new Error('unreachable'), { heldBytes: full, limitBytes: LIMIT, grew: false }, stderr('abort'));
  assert.equal(left, { kind: 'trap', message: 'unreachable (stderr: abort)' });
  // Grown, but far from the cap: a trap.
  assert.is(describeFailure(new Error('unreachable'), { heldBytes: LIMIT / 4, limitBytes: LIMIT, grew: true }, []).kind, 'trap');
});

test("a guest's err that says it ran out of memory is the memory limit from half the cap, grown or not", () => {
  assert.is(guestError('out of memory', { heldBytes: LIMIT / 2, limitBytes: LIMIT, grew: false }).kind, 'memory');
  assert.is(guestError('out of memory', { heldBytes: LIMIT / 4, limitBytes: LIMIT, grew: true }).kind, 'error');
  assert.equal(guestError('no such user', { heldBytes: LIMIT, limitBytes: LIMIT, grew: false }), { kind: 'error', message: 'no such user' });
});

test.run();
