// What a trap's message quotes of the guest's stderr (exec/guest-failure.ts): enough of both ends
// that the cause is there whichever end a language writes it to.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { describeFailure } from '../../../runtime/exec/guest-failure.js';
import type { LogLine } from '../../../runtime/exec/protocol.js';

const stderr = (...lines: string[]): LogLine[] => lines.map((message) => ({ stream: 'stderr', message }));
const trap = (logs: LogLine[]) => describeFailure(new Error('unreachable'), 0, 2 ** 27, logs);

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
  assert.is(describeFailure(err, 0, 2 ** 27, stderr('noise')).message, 'x');
});

test.run();
