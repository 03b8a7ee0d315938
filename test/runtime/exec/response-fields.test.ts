// The header fields a guest's response may have (exec/response-fields.ts): what would break the
// client's connection (a content-length that lies, fields about the connection itself) is named,
// and what HTTP allows passes, a content-length without content included where HTTP has none.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { responseFieldsProblem } from '../../../runtime/exec/response-fields.js';

test('a content-length must tell the body length, once or repeated the same', () => {
  assert.is(responseFieldsProblem(200, [['Content-Length', '2']], 2, 'GET'), undefined);
  assert.is(responseFieldsProblem(200, [['content-length', '2'], ['CONTENT-LENGTH', ' 2 ']], 2, 'POST'), undefined);
  assert.match(responseFieldsProblem(200, [['content-length', '100']], 2, 'GET') ?? '', 'says 100, its body has 2 bytes');
  assert.match(responseFieldsProblem(200, [['content-length', '1']], 2, 'GET') ?? '', 'says 1');
  assert.match(responseFieldsProblem(200, [['content-length', '2'], ['content-length', '3']], 2, 'GET') ?? '', 'both 2 and 3');
  assert.match(responseFieldsProblem(200, [['content-length', '-1']], 2, 'GET') ?? '', 'malformed');
  assert.match(responseFieldsProblem(200, [['content-length', '2, 2']], 2, 'GET') ?? '', 'malformed');
});

test('without content (HEAD, 204, 205, 304) a content-length may describe what a GET would get', () => {
  assert.is(responseFieldsProblem(200, [['content-length', '100']], 0, 'HEAD'), undefined);
  assert.is(responseFieldsProblem(304, [['content-length', '100']], 0, 'GET'), undefined);
  assert.match(responseFieldsProblem(304, [['content-length', 'many']], 0, 'GET') ?? '', 'malformed');
});

test('fields about the connection are refused, whatever their case; others pass', () => {
  for (const name of ['Connection', 'keep-alive', 'Transfer-Encoding', 'upgrade', 'te', 'trailer', 'host', 'proxy-connection']) {
    assert.match(responseFieldsProblem(200, [[name, 'x']], 0, 'GET') ?? '', 'about the connection', name);
  }
  assert.is(responseFieldsProblem(200, [['x-a', '1'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']], 0, 'GET'), undefined);
  assert.match(responseFieldsProblem(200, [['bad name', '1']], 0, 'GET') ?? '', 'invalid header name');
  assert.match(responseFieldsProblem(200, [['x-a', 'one\r\ntwo']], 0, 'GET') ?? '', 'invalid value');
});

test.run();
