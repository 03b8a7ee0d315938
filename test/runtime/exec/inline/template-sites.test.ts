// Which i64 constants of a module differ from its template family's reference (templates.ts):
// the sites that become per-instance parameters, found without reading every constant.
import { test } from '../../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { differingSites } from '../../../../runtime/exec/inline/templates.js';

/** Every index where the arrays differ, element by element. */
function naive(a: BigInt64Array, b: BigInt64Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) out.push(i);
  return out;
}

test('the differing sites are exactly those an element-by-element comparison finds', () => {
  let x = 7;
  const next = (below: number) => (x = (x * 1103515245 + 12345) % 2 ** 31) % below;
  for (let round = 0; round < 40; round++) {
    const length = 1 + next(5000);
    const a = BigInt64Array.from({ length }, () => BigInt(next(1 << 30)) * 4_000_000_007n);
    const b = a.slice();
    for (let k = next(12); k > 0; k--) {
      const i = next(length);
      // A change in one byte only, either half of the constant, or the sign.
      b[i] = next(2) === 0 ? b[i] ^ (1n << BigInt(next(63))) : -b[i] - 1n;
    }
    assert.equal(differingSites(b, a), naive(b, a), `round ${round}`);
  }
});

test('equal arrays have no differing site; the first `limit` sites are given when more differ', () => {
  const a = BigInt64Array.from({ length: 1000 }, (_, i) => BigInt(i) * 1234567891011n);
  assert.equal(differingSites(a, a.slice()), []);
  const b = a.map((v, i) => (i % 10 === 3 ? v + 1n : v));
  assert.equal(differingSites(b, a, 5), [3, 13, 23, 33, 43]);
  assert.is(differingSites(b, a).length, 100);
  assert.equal(differingSites(new BigInt64Array(0), new BigInt64Array(0)), []);
});

test('constants that only one of the arrays has count as differing', () => {
  const a = BigInt64Array.of(1n, 2n, 3n);
  assert.equal(differingSites(a, BigInt64Array.of(1n, 2n)), [2]);
  assert.equal(differingSites(BigInt64Array.of(9n), a), [0, 1, 2]);
});

test.run();
