// CallSigner: a node's signature over its call headers verifies once, within the window, for
// exactly the request it was made for, and only with the shared secret.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { CallSigner, type SignedCall } from '../../../runtime/invoke/call-signature.js';

const SECRET = 'shared by the nodes, long enough';
const CALL: SignedCall = { method: 'POST', target: '/fn/far/x?q=1', depth: '1', caller: 'inv-1', timeoutMs: '900', async: false };

function pair(windowMs = 30_000) {
  const clock = { now: 1_700_000_000_000 };
  return { clock, sender: new CallSigner(SECRET, windowMs, () => clock.now), receiver: new CallSigner(SECRET, windowMs, () => clock.now) };
}

test('a signature verifies for the call it was made for', () => {
  const { sender, receiver } = pair();
  assert.equal(receiver.verify(CALL, sender.sign(CALL)), { ok: true });
  assert.equal(receiver.verify({ ...CALL, method: 'post' }, sender.sign(CALL)), { ok: true }, 'methods compare case-insensitively');
});

test('any changed field fails it', () => {
  const { sender, receiver } = pair();
  const changes: Partial<SignedCall>[] = [
    { method: 'GET' },
    { target: '/fn/other/x?q=1' },
    { target: '/fn/far/x?q=2' },
    { depth: '0' },
    { caller: 'inv-2' },
    { timeoutMs: '90000' },
    { timeoutMs: undefined },
    { async: true },
  ];
  for (const change of changes) {
    const verdict = receiver.verify({ ...CALL, ...change }, sender.sign(CALL));
    assert.is(verdict.ok, false, JSON.stringify(change));
    assert.match(!verdict.ok ? verdict.reason : '', /does not match/);
  }
});

test('a signature is accepted once', () => {
  const { sender, receiver } = pair();
  const signature = sender.sign(CALL);
  assert.is(receiver.verify(CALL, signature).ok, true);
  const replay = receiver.verify(CALL, signature);
  assert.is(replay.ok, false);
  assert.match(!replay.ok ? replay.reason : '', /replay/);
});

test('stale or future signatures are refused, at the edge of the window they pass', () => {
  const { clock, sender, receiver } = pair(1000);
  const old = sender.sign(CALL);
  clock.now += 1001;
  const stale = receiver.verify(CALL, old);
  assert.is(stale.ok, false);
  assert.match(!stale.ok ? stale.reason : '', /window/);
  const edge = sender.sign(CALL);
  clock.now += 1000;
  assert.is(receiver.verify(CALL, edge).ok, true);
  const ahead = sender.sign(CALL);
  clock.now -= 5000;
  assert.is(receiver.verify(CALL, ahead).ok, false);
});

test('another secret, or a malformed header, fails', () => {
  const { receiver } = pair();
  const stranger = new CallSigner('some other secret of length', 30_000, () => 1_700_000_000_000);
  assert.is(receiver.verify(CALL, stranger.sign(CALL)).ok, false);
  for (const bad of ['', 'v1', 'v2 t=1 n=abcdefghijklmnop s=x', `v1 t=1700000000000 n=short s=${'a'.repeat(43)}`]) {
    const verdict = receiver.verify(CALL, bad);
    assert.is(verdict.ok, false, bad);
  }
});

test('nonces are forgotten after the window, and a replay then fails on the clock', () => {
  const { clock, sender, receiver } = pair(1000);
  const signature = sender.sign(CALL);
  assert.is(receiver.verify(CALL, signature).ok, true);
  clock.now += 5000;
  receiver.verify(CALL, sender.sign(CALL));
  const replay = receiver.verify(CALL, signature);
  assert.is(replay.ok, false);
  assert.match(!replay.ok ? replay.reason : '', /window/);
});

test.run();
