// Unit tests of the pure version-vector, winner and validation rules.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import type { Version } from '../../../replication/store/port.js';
import {
  compare,
  compareSiblings,
  merge,
  pickWinner,
  tick,
  validateAppendId,
  validateId,
  validateKeygroupName,
  validateValue,
  versionText,
} from '../../../replication/store/version.js';

function throwsCode(fn: () => void, code: string, mentions?: string): void {
  try {
    fn();
  } catch (error) {
    assert.is((error as { code?: string }).code, code, String(error));
    if (mentions) assert.ok((error as Error).message.includes(mentions), (error as Error).message);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

test('compare orders versions pointwise', () => {
  assert.is(compare({ a: 1, b: 2 }, { b: 2, a: 1 }), 'equal');
  assert.is(compare({}, {}), 'equal');
  assert.is(compare({ a: 1 }, { a: 2 }), 'before');
  assert.is(compare({ a: 2, b: 1 }, { a: 1, b: 1 }), 'after');
  assert.is(compare({ a: 2, b: 1 }, { a: 1, b: 2 }), 'concurrent');
  assert.is(compare({ a: 1 }, { b: 1 }), 'concurrent');
});

test('compare: a node id present in only one clock counts as bigger, even at 0', () => {
  assert.is(compare({ a: 1 }, { a: 1, b: 0 }), 'before');
  assert.is(compare({ a: 1, b: 0 }, { a: 1 }), 'after');
  assert.is(compare({}, { a: 0 }), 'before');
  assert.is(compare({ a: 0 }, { b: 0 }), 'concurrent');
  assert.is(compare({ a: 2 }, { a: 1, b: 0 }), 'concurrent');
});

test('compare is not fooled by node ids that are Object.prototype names', () => {
  assert.is(compare({ a: 1 }, { a: 1, constructor: 1 }), 'before');
  assert.is(compare({ toString: 2 }, { toString: 1 }), 'after');
  assert.equal(tick({}, 'constructor'), { constructor: 1 });
});

test('merge takes the pointwise maximum and keeps zero entries', () => {
  const a: Version = { a: 3, b: 0 };
  const b: Version = { a: 1, c: 2 };
  assert.equal(merge(a, b), { a: 3, b: 0, c: 2 });
  assert.equal(merge(), {});
  assert.equal(a, { a: 3, b: 0 }); // inputs untouched
  for (const v of [a, b]) assert.ok(['before', 'equal'].includes(compare(v, merge(a, b))));
});

test('tick adds one for the node without changing its input', () => {
  const v: Version = { a: 1 };
  assert.equal(tick(v, 'a'), { a: 2 });
  assert.equal(tick(v, 'b'), { a: 1, b: 1 });
  assert.equal(v, { a: 1 });
  assert.is(compare(tick(merge({ a: 1 }, { b: 4 }), 'a'), { b: 4 }), 'after');
});

test('versionText sorts node ids by code unit', () => {
  assert.is(versionText({ b: 2, a: 1 }), 'a:1,b:2');
  assert.is(versionText({ b: 1, B: 1, a10: 3 }), 'B:1,a10:3,b:1');
  assert.is(versionText({}), '');
});

test('the winner has the most ticks, then the greater version text, then the greater value', () => {
  const fewer = { value: 'z', version: { a: 1 } };
  const more = { value: 'a', version: { a: 1, b: 1 } };
  assert.is(pickWinner([fewer, more]), more);
  const textA = { value: 'z', version: { a: 2 } };
  const textB = { value: 'a', version: { b: 2 } };
  assert.is(pickWinner([textA, textB]), textB);
  const low = { value: 'apple', version: { a: 1 } };
  const high = { value: 'banana', version: { a: 1 } };
  assert.is(pickWinner([high, low]), high);
  assert.is(pickWinner([low, high]), high);
  assert.is(pickWinner([]), undefined);
});

test('every order of the same siblings sorts and picks the same way', () => {
  const siblings: Array<{ value: string; version: Version }> = [
    { value: 'x', version: { a: 1, b: 1 } },
    { value: 'y', version: { c: 2 } },
    { value: 'z', version: { d: 1 } },
    { value: 'w', version: { a: 3 } },
  ];
  const expected = ['w', 'y', 'x', 'z']; // y before x: equal ticks, 'c:2' > 'a:1,b:1'
  for (const order of [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]]) {
    const shuffled = order.map((i) => siblings[i]!);
    assert.equal([...shuffled].sort(compareSiblings).map((s) => s.value), expected);
    assert.is(pickWinner(shuffled)!.value, 'w');
  }
});

test('ids and keygroup names must be alphanumeric and at most 512 characters', () => {
  validateId('abcXYZ019');
  validateId('a'.repeat(512));
  validateKeygroupName('kg1');
  throwsCode(() => validateId(''), 'ERR_INVALID_KEY', '""');
  throwsCode(() => validateId('a-b'), 'ERR_INVALID_KEY', '"a-b"');
  throwsCode(() => validateId('ä'), 'ERR_INVALID_KEY', 'ä');
  throwsCode(() => validateId('a b'), 'ERR_INVALID_KEY');
  throwsCode(() => validateId('a'.repeat(513)), 'ERR_INVALID_KEY', '513 characters');
  throwsCode(() => validateId(7 as unknown as string), 'ERR_INVALID_KEY');
  throwsCode(() => validateKeygroupName('my_kg'), 'ERR_INVALID_KEY', 'keygroup name "my_kg"');
});

test('append ids are canonical unsigned 64-bit decimals', () => {
  validateAppendId('0');
  validateAppendId('18446744073709551615');
  throwsCode(() => validateAppendId('18446744073709551616'), 'ERR_INVALID_KEY');
  throwsCode(() => validateAppendId('007'), 'ERR_INVALID_KEY');
  throwsCode(() => validateAppendId('1a'), 'ERR_INVALID_KEY');
});

test('values must be non-empty, well-formed and within the limit in UTF-8 bytes', () => {
  validateValue('x', 1);
  validateValue('€', 3);
  throwsCode(() => validateValue('', 10), 'ERR_INVALID_VALUE');
  throwsCode(() => validateValue('€', 2), 'ERR_INVALID_VALUE', '3 bytes');
  throwsCode(() => validateValue('ab', 1), 'ERR_INVALID_VALUE');
  throwsCode(() => validateValue('\udc00', 10), 'ERR_INVALID_VALUE');
  validateValue('😀', 4); // a surrogate pair is fine
  throwsCode(() => validateValue(undefined, 10), 'ERR_INVALID_VALUE');
});

test.run();
