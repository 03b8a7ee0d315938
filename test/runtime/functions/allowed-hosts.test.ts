// Outgoing HTTP allow-lists: deny by default, exact hosts, ports, subdomain wildcards; bad entries
// are refused at deploy.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { EnokiError } from '../../../runtime/errors.js';
import { hostAllowed, normalizeAllowedHosts } from '../../../runtime/functions/allowed-hosts.js';

const allowed = (list: string[], url: string) => hostAllowed(normalizeAllowedHosts(list), new URL(url));

test('an empty list allows nothing', () => {
  assert.is(allowed([], 'https://example.com/'), false);
});

test('a host allows every port of it; a host:port only that port (default ports count)', () => {
  assert.ok(allowed(['api.example.com'], 'https://api.example.com:8443/x'));
  assert.ok(allowed(['API.Example.com'], 'http://api.example.com/'));
  assert.not.ok(allowed(['api.example.com'], 'https://example.com/'));
  assert.not.ok(allowed(['api.example.com'], 'https://api.example.com.evil.net/'));
  assert.ok(allowed(['127.0.0.1:8080'], 'http://127.0.0.1:8080/'));
  assert.not.ok(allowed(['127.0.0.1:8080'], 'http://127.0.0.1:8081/'));
  assert.ok(allowed(['example.com:443'], 'https://example.com/'));
  assert.not.ok(allowed(['example.com:443'], 'http://example.com/'));
  assert.ok(allowed(['[::1]:9000'], 'http://[::1]:9000/'));
});

test('*.domain allows its subdomains, not the domain; * allows any host', () => {
  assert.ok(allowed(['*.example.com'], 'https://a.b.example.com/'));
  assert.not.ok(allowed(['*.example.com'], 'https://example.com/'));
  assert.not.ok(allowed(['*.example.com'], 'https://badexample.com/'));
  assert.ok(allowed(['*'], 'http://anything.test:1/'));
});

test('entries that are not hosts are refused with ERR_INVALID_OPTION', () => {
  for (const bad of ['http://example.com', 'example.com/path', 'exa mple.com', 'host:99999', '', '*.', 'a*b.com']) {
    try {
      normalizeAllowedHosts([bad]);
      assert.unreachable(`accepted ${JSON.stringify(bad)}`);
    } catch (err) {
      assert.instance(err, EnokiError);
      assert.is((err as EnokiError).code, 'ERR_INVALID_OPTION');
    }
  }
  assert.equal(normalizeAllowedHosts([' Example.com ', 'example.com']), ['example.com']);
});

test.run();
