// The server's own Headers and Response against Node's (undici's) as the reference: the same
// operations must give the same results wherever Hono or the routes rely on them.
import { test } from '../../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { seededRandom } from '../../../helpers/seeded.js';
import { FetchHeaders } from '../../../../runtime/http/server/fetch-headers.js';
import { FetchResponse } from '../../../../runtime/http/server/fetch-response.js';

// Node's own, taken before anything could install the server's.
const NodeHeaders = globalThis.Headers;
const NodeResponse = globalThis.Response;

type AnyHeaders = Pick<Headers, 'append' | 'set' | 'delete' | 'get' | 'has' | 'getSetCookie'> & Iterable<[string, string]>;

test('random header operations leave both implementations with the same headers', () => {
  const names = ['Content-Type', 'content-type', 'X-A', 'x-a', 'Set-Cookie', 'set-cookie', 'Accept', 'b', 'A'];
  const values = ['1', 'text/plain', ' padded\t', 'a=b; Path=/', '', 'x, y'];
  const next = seededRandom(11);
  const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)];
  for (let round = 0; round < 200; round++) {
    const ours: AnyHeaders = new FetchHeaders() as unknown as AnyHeaders;
    const theirs: AnyHeaders = new NodeHeaders();
    for (let i = 0; i < 12; i++) {
      const op = pick(['append', 'append', 'set', 'delete']);
      const name = pick(names);
      const value = pick(values);
      for (const h of [ours, theirs]) {
        if (op === 'delete') h.delete(name);
        else h[op as 'append' | 'set'](name, value);
      }
      const name2 = pick(names);
      assert.is(ours.get(name2), theirs.get(name2), `get(${name2}) in round ${round}`);
      assert.is(ours.has(name2), theirs.has(name2));
    }
    assert.equal([...ours], [...theirs], `entries in round ${round}`);
    assert.equal(ours.getSetCookie(), theirs.getSetCookie());
  }
});

test('headers built from a record, pairs or other headers agree, and bad ones are refused alike', () => {
  const inits: unknown[] = [
    { 'Content-Type': 'a', 'x-b': 'c' },
    [['a', '1'], ['A', '2'], ['set-cookie', 'x=1'], ['set-cookie', 'y=2']],
    new NodeHeaders({ z: '1', a: '2' }),
  ];
  for (const init of inits) {
    assert.equal([...new FetchHeaders(init as never)], [...new NodeHeaders(init as HeadersInit)]);
  }
  // Node's own header objects hold repeated set-cookie values in an array.
  assert.equal(new FetchHeaders({ 'set-cookie': ['a=1', 'b=2'] }).getSetCookie(), ['a=1', 'b=2']);
  for (const [name, value] of [['bad name', 'v'], ['x', 'a\r\nInjected: 1'], ['x', 'a\0b'], ['', 'v']]) {
    assert.throws(() => new NodeHeaders([[name, value]]));
    assert.throws(() => new FetchHeaders([[name, value]]), (err: unknown) => err instanceof TypeError);
  }
});

test('responses read back as Node’s do: status, headers, text, bytes, JSON', async () => {
  const cases: Array<[unknown, ResponseInit | undefined]> = [
    ['hello', undefined],
    ['{"a":1}', { status: 201, headers: { 'content-type': 'application/json' } }],
    [new Uint8Array([104, 105]), { status: 202 }],
    [new Uint8Array([1, 2, 3, 4]).subarray(1, 3), undefined],
    [new Uint8Array([5, 6]).buffer, undefined],
    [new URLSearchParams({ a: '1', b: 'x y' }), undefined],
    [null, { status: 204 }],
    [undefined, { status: 404, statusText: 'Nope' }],
    [new Blob(['blob'], { type: 'text/x-blob' }), undefined],
    [new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('st')), c.enqueue(new TextEncoder().encode('ream')), c.close()) }), undefined],
  ];
  for (const [body, init] of cases) {
    // Streams are read once: each side gets its own copy.
    const copy = (b: unknown) => (b instanceof ReadableStream ? new Response('stream').body : b);
    const ours = new FetchResponse(body, init);
    const theirs = new NodeResponse(copy(body) as BodyInit, init);
    const label = Object.prototype.toString.call(body);
    assert.is(ours.status, theirs.status, label);
    assert.is(ours.statusText, theirs.statusText, label);
    assert.is(ours.ok, theirs.ok, label);
    // One difference on purpose: the type a text body implies is written as the node always sent it.
    const expected = [...theirs.headers].map(([n, v]) => [n, v === 'text/plain;charset=UTF-8' ? 'text/plain; charset=UTF-8' : v]);
    assert.equal([...ours.headers], expected, label);
    assert.is(ours.body === null, theirs.body === null, label);
    assert.equal(new Uint8Array(await ours.arrayBuffer()), new Uint8Array(await theirs.arrayBuffer()), label);
    assert.ok(ours.bodyUsed || body === null || body === undefined, label);
  }
  assert.equal(await FetchResponse.json({ a: [1] }, { status: 418 }).json(), { a: [1] });
  assert.is(FetchResponse.json({}).headers.get('content-type'), NodeResponse.json({}).headers.get('content-type'));
  assert.is(FetchResponse.redirect('http://x/y', 307).headers.get('location'), 'http://x/y');
  assert.is(FetchResponse.error().status, 0);
});

test('a body is read once; a clone reads on its own; bad statuses and null-body statuses are refused', async () => {
  const response = new FetchResponse('once');
  const clone = response.clone();
  assert.is(await response.text(), 'once');
  assert.is(await response.text().then(() => 'read', (err: unknown) => (err instanceof TypeError ? 'refused' : String(err))), 'refused');
  assert.is(await clone.text(), 'once');
  const streamed = new FetchResponse(new Response('tee').body);
  const streamedClone = streamed.clone();
  assert.is(await streamed.text(), 'tee');
  assert.is(await streamedClone.text(), 'tee');
  assert.throws(() => new FetchResponse('x', { status: 99 }), (err: unknown) => err instanceof RangeError);
  assert.throws(() => new FetchResponse('x', { status: 204 }), (err: unknown) => err instanceof TypeError);
  assert.throws(() => new FetchResponse(new FormData()), (err: unknown) => err instanceof TypeError);
});

test('a response made from another one’s body keeps the body, as Hono does when it adds a header late', async () => {
  const first = new FetchResponse('late header', { headers: { 'content-type': 'text/plain' } });
  const second = new FetchResponse(first.body, first);
  second.headers.set('x-late', '1');
  assert.is(second.takeRawBody(), 'late header');
  assert.is(second.headers.get('content-type'), 'text/plain');
});
