// Baseline code for what the warm-up runs (warm-up/baseline-code.ts): functions first run inside
// withBaselineCode get V8's baseline code at once, those run after it (also after a failed
// warm-up) are compiled as usual again. Read through V8's own status of a function, in a child
// process started with --allow-natives-syntax.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as assert from 'uvu/assert';
import { test } from '../helpers/suite.js';

const MODULE = new URL('../../runtime/warm-up/baseline-code.js', import.meta.url).href;

// V8's OptimizationStatus bit for a function that has baseline (Sparkplug) code.
const SCRIPT = `
const { withBaselineCode } = await import(${JSON.stringify(MODULE)});
let n = 0;
// A fresh source each time: V8 would otherwise reuse the function compiled for an earlier one.
const ranOnce = () => { const f = new Function('x', 'return x + ' + n++); f(1); return f; };
const baseline = (f) => (eval('%GetOptimizationStatus(f)') & (1 << 15)) !== 0;
const seen = { before: baseline(ranOnce()) };
seen.during = await withBaselineCode(async () => baseline(ranOnce()));
seen.after = baseline(ranOnce());
await withBaselineCode(async () => { throw new Error('the warm-up failed'); }).catch(() => {});
seen.afterFailure = baseline(ranOnce());
process.stdout.write(JSON.stringify(seen));
`;

test('functions first run during the warm-up get baseline code; after it, and after a failed one, no longer', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', SCRIPT]);
  assert.equal(JSON.parse(stdout), { before: false, during: true, after: false, afterFailure: false });
});

test.run();
