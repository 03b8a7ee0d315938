// ResultAccess: an async result is readable with the invoking request's credentials, its result
// token, or the admin token, and with nothing else.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { ADMIN_ONLY, ResultAccess } from '../../../runtime/http/result-access.js';

const access = new ResultAccess('a node secret of some length', 'admin-token');
const admin = { authorization: 'Bearer admin-token' };

test('the same Authorization header reads; another, or none, does not', () => {
  const { owner, resultToken } = access.ownerOf({ authorization: 'Bearer alice' }, true);
  assert.is(resultToken, undefined, 'credentials given: no token');
  assert.ok(access.mayRead(owner, { authorization: 'Bearer alice' }));
  assert.not.ok(access.mayRead(owner, { authorization: 'Bearer bob' }));
  assert.not.ok(access.mayRead(owner, {}));
  assert.not.ok(access.mayRead(owner, { authorization: 'Bearer alice', certificate: 'AA:BB' }), 'a certificate the invoker did not present');
  assert.ok(access.mayRead(owner, admin));
});

test('under mTLS the client certificate counts: same header, other certificate, no read', () => {
  const { owner } = access.ownerOf({ authorization: 'Bearer alice', certificate: 'AA:BB' }, true);
  assert.ok(access.mayRead(owner, { authorization: 'Bearer alice', certificate: 'AA:BB' }));
  assert.not.ok(access.mayRead(owner, { authorization: 'Bearer alice', certificate: 'CC:DD' }));
  assert.not.ok(access.mayRead(owner, { authorization: 'Bearer alice' }));
  const certOnly = access.ownerOf({ certificate: 'AA:BB' }, true);
  assert.is(certOnly.resultToken, undefined);
  assert.ok(access.mayRead(certOnly.owner, { certificate: 'AA:BB' }));
  assert.not.ok(access.mayRead(certOnly.owner, { certificate: 'CC:DD' }));
});

test('without credentials the invoker gets a token, and only the token (or the admin) reads', () => {
  const { owner, resultToken } = access.ownerOf({}, true);
  assert.type(resultToken, 'string');
  assert.ok(resultToken!.length >= 32);
  assert.ok(access.mayRead(owner, { resultToken }));
  assert.not.ok(access.mayRead(owner, {}));
  assert.not.ok(access.mayRead(owner, { resultToken: resultToken!.slice(1) }));
  assert.not.ok(access.mayRead(owner, { resultToken: access.ownerOf({}, true).resultToken }));
  assert.ok(access.mayRead(owner, admin));
  assert.is.not(access.ownerOf({}, true).resultToken, resultToken, 'a fresh token each time');
});

test('owner tags depend on the node key and reveal nothing readable', () => {
  const other = new ResultAccess('another node secret', 'admin-token');
  const { owner } = access.ownerOf({ authorization: 'Bearer alice' }, true);
  assert.not.ok(other.mayRead(owner, { authorization: 'Bearer alice' }));
  assert.not.ok(owner.includes('alice'));
});

test('results of credential-less guest calls are for the admin only', () => {
  const { owner, resultToken } = access.ownerOf({}, false);
  assert.is(owner, ADMIN_ONLY);
  assert.is(resultToken, undefined);
  assert.not.ok(access.mayRead(owner, {}));
  assert.not.ok(access.mayRead(owner, { authorization: 'Bearer anything' }));
  assert.ok(access.mayRead(owner, admin));
});

test.run();
