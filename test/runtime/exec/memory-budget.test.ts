// evictOverBudget: warm instances go least recently used first, only until the total is within
// the budget, and nothing goes when it already is.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { evictOverBudget, type WarmCandidate } from '../../../runtime/exec/memory-budget.js';

function pool(entries: Array<[string, number, number]>): { evicted: string[]; candidates: () => WarmCandidate[] } {
  const live = new Map(entries.map(([name, lastUsed, bytes]) => [name, { lastUsed, bytes }]));
  const evicted: string[] = [];
  const candidates = () =>
    [...live].map(([name, e]) => ({ lastUsed: e.lastUsed, bytes: () => e.bytes, evict: () => (live.delete(name), evicted.push(name)) }));
  return { evicted, candidates };
}

test('evicts the least recently used first, until the total is within the budget', () => {
  const p = pool([['a', 30, 10], ['b', 10, 10], ['c', 20, 10]]);
  evictOverBudget(30, 15, p.candidates);
  assert.equal(p.evicted, ['b', 'c']);
});

test('evicts nothing within the budget, and stops when no candidate is left', () => {
  const within = pool([['a', 1, 10]]);
  evictOverBudget(10, 10, within.candidates);
  assert.equal(within.evicted, []);
  // Instances in a call are not candidates: the total may stay over the budget.
  const busy = pool([['a', 1, 5]]);
  evictOverBudget(100, 10, busy.candidates);
  assert.equal(busy.evicted, ['a']);
});

test.run();
