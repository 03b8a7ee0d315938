// Which failures of FReD's 3NodeTest come from its ConcurrencyImmutable clients drawing the same
// id (the suite's own making, rerun once) and which do not (reported as they are).
import * as assert from 'uvu/assert';
import { suite } from '../helpers/suite.js';
import { idCollisions, type ThreeNodeTestResult } from './three-node-test.js';

const test = suite('interop: id collisions of FReD\'s ConcurrencyImmutable suite');

// The lines of a real run (order eff) in which two clients drew the same id.
const COLLIDED = 'ERR expected: only one client can write to key 1796455412025238026, but got: several clients were able to write to same id for 1796455412025238026 node=nodeA';
const WRONG_VALUE = 'ERR expected: value adlfxrmkyp for 1796455412025238026, but got: got wrong value mwljlqcoci node=nodeA';

const result = (errors: number, failures: string[], failedSuites: Record<string, number> = { ConcurrencyImmutable: failures.length }): ThreeNodeTestResult => ({
  order: 'eff',
  errors,
  failedSuites,
  failures,
  seconds: 90,
});

test('a run whose every failure stems from one id drawn twice is a collision', () => {
  assert.equal(idCollisions(result(3, [COLLIDED, WRONG_VALUE])), ['1796455412025238026']);
  assert.equal(idCollisions(result(2, [COLLIDED])), ['1796455412025238026']);
});

test('a wrong value for another id, another failed suite, or more errors than the collision explains: not a collision', () => {
  const other = 'ERR expected: value aaaaaaaaaa for 1796455412025238099, but got: got wrong value bbbbbbbbbb node=nodeA';
  assert.equal(idCollisions(result(5, [COLLIDED, WRONG_VALUE, other])), []);
  assert.equal(idCollisions(result(4, [COLLIDED, WRONG_VALUE], { ConcurrencyImmutable: 2, Replication: 1 })), []);
  assert.equal(idCollisions(result(7, [COLLIDED, WRONG_VALUE])), []);
});

test('a run without errors, or with other errors only, is not a collision', () => {
  assert.equal(idCollisions(result(0, [])), []);
  assert.equal(idCollisions(result(1, [WRONG_VALUE])), []);
  assert.equal(idCollisions(result(-1, [])), []);
});

test.run();
