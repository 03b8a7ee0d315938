// The guest's path and query, taken from the request target: a plain target is taken apart as
// it is, anything else by the URL parser; both must give what the URL parser gives.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { seededRandom } from '../../helpers/seeded.js';
import { splitTarget } from '../../../runtime/http/guest-io.js';

/** What the URL parser makes of the target: the reference. */
function parsed(target: string, prefix: string): { path: string; query: string } {
  const url = new URL(target, 'http://localhost');
  const rest = url.pathname.slice(prefix.length);
  return { path: rest === '' ? '/' : rest, query: url.search.slice(1) };
}


test('plain and unusual targets alike come out as the URL parser reads them', () => {
  const prefix = '/fn/hello';
  const pieces = ['a', 'Z', '9', '-', '_', '~', '/', '//', '.', '..', '/./', '/../', '%2e', '%2E', '%', '%41', '?', '??', '&', '=', ' ', '"', "'", '<', '>', '`', '{', '}', '#', '\\', '|', '^', ':', '@', '+', ',', ';', '!', '$', '*', '(', ')', 'é', '\u{1f600}', '\t'];
  const next = seededRandom(7);
  let plain = 0;
  for (let i = 0; i < 5000; i++) {
    let rest = '';
    const n = Math.floor(next() * 8);
    for (let k = 0; k < n; k++) rest += pieces[Math.floor(next() * pieces.length)];
    // Mostly below the prefix, as the router sends them; sometimes straight after it.
    const target = prefix + (next() < 0.8 ? '/' : '') + rest;
    assert.equal(splitTarget(target, prefix), parsed(target, prefix), JSON.stringify(target));
    if (/^[\w\-~!$&()*+,;=:@/]*(\?[\w\-.~!$&()*+,;=:@/?%]*)?$/.test(target.slice(prefix.length)) && !target.includes('.', 0)) plain++;
  }
  // Both ways were taken many times.
  assert.ok(plain > 200 && plain < 4800, `${plain} plain targets of 5000`);
});

test('the common targets', () => {
  assert.equal(splitTarget('/fn/hello', '/fn/hello'), { path: '/', query: '' });
  assert.equal(splitTarget('/fn/hello?', '/fn/hello'), { path: '/', query: '' });
  assert.equal(splitTarget('/fn/hello/items/42?limit=10&after=x', '/fn/hello'), { path: '/items/42', query: 'limit=10&after=x' });
  assert.equal(splitTarget('/fn/hello/a/../b?q=%20', '/fn/hello'), { path: '/b', query: 'q=%20' });
  assert.equal(splitTarget('/fn/hello/a b', '/fn/hello'), { path: '/a%20b', query: '' });
});

test.run();
