// uvu's `suite` and `test`, with hooks that say why they failed. uvu counts every test of a suite
// whose `before` hook threw as failed but prints nothing of the error, so a broken setup (a node
// that did not start, a deploy refused) shows in a log as "(0 / N)" and nothing else. Here a
// failing hook prints uvu's own FAIL line with its suite, hook and message, then throws on, so
// uvu still counts what it counts; the test runner's closing digest lists these lines too.
import { suite as uvuSuite, type Callback, type Test } from 'uvu';

function reporting<T>(suiteName: string, hook: string, fn: Callback<T>): Callback<T> {
  return async (context) => {
    try {
      await fn(context);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      process.stdout.write(`\n   FAIL  ${suiteName || '(unnamed suite)'}  "${hook} hook"\n    ${message.split('\n').join('\n    ')}\n`);
      throw error;
    }
  };
}

export function suite<T = Record<string, unknown>>(name = '', state?: T): Test<T> {
  const s = uvuSuite<T>(name, state);
  const { before, after } = s;
  s.before = Object.assign((fn: Callback<T>) => before(reporting(name, 'before', fn)), {
    each: (fn: Callback<T>) => before.each(reporting(name, 'before.each', fn)),
  });
  s.after = Object.assign((fn: Callback<T>) => after(reporting(name, 'after', fn)), {
    each: (fn: Callback<T>) => after.each(reporting(name, 'after.each', fn)),
  });
  return s;
}

/** The unnamed suite, as uvu's own `test`. */
export const test = suite();
