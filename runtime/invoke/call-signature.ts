// Signatures of the call headers one node sends another (X-Enoki-Call-Depth, -Caller,
// -Timeout-Ms): they steer scheduling (a callee goes before other work and may start extra
// workers), so a node honours them only from another node. The sender signs them with a secret
// the nodes share (ENOKI_CALL_SECRET): an HMAC-SHA256 over the method, the request target, the
// call headers, whether the call is asynchronous, a timestamp and a random nonce. The receiver
// accepts a signature once (the nonce), and only within `windowMs` of its own clock.
//
// Header: `X-Enoki-Call-Signature: v1 t=<ms since epoch> n=<nonce> s=<base64url HMAC>`.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-enoki-call-signature';

/** The parts of a call the signature covers, as the header values travel. */
export interface SignedCall {
  method: string;
  /** Path and query as sent on the request line (`/fn/name/sub?q=1`). */
  target: string;
  depth: string;
  caller: string;
  timeoutMs?: string;
  async: boolean;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

const FORMAT = /^v1 t=(\d{1,16}) n=([A-Za-z0-9_-]{16,64}) s=([A-Za-z0-9_-]{43})$/;

export class CallSigner {
  readonly #key: Buffer;
  /** Nonces accepted within the window, with when they may be forgotten; in insertion order. */
  readonly #seen = new Map<string, number>();

  constructor(
    secret: string,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.#key = Buffer.from(secret, 'utf8');
  }

  sign(call: SignedCall): string {
    const t = this.now();
    const n = randomBytes(16).toString('base64url');
    return `v1 t=${t} n=${n} s=${this.#mac(call, t, n).toString('base64url')}`;
  }

  verify(call: SignedCall, header: string): Verdict {
    const parts = FORMAT.exec(header.trim());
    if (!parts) return { ok: false, reason: 'malformed' };
    const t = Number(parts[1]);
    const nonce = parts[2];
    const now = this.now();
    if (Math.abs(now - t) > this.windowMs) {
      return { ok: false, reason: `made ${Math.round((now - t) / 1000)} s from this node's clock, beyond the ${this.windowMs} ms window` };
    }
    const given = Buffer.from(parts[3], 'base64url');
    const expected = this.#mac(call, t, nonce);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, reason: 'does not match the request (tampered with, or made with another secret)' };
    }
    this.#forgetOld(now);
    if (this.#seen.has(nonce)) return { ok: false, reason: 'already used (a replay)' };
    // A nonce must be remembered as long as its timestamp is inside the window: t + window.
    this.#seen.set(nonce, Math.max(t, now) + this.windowMs);
    return { ok: true };
  }

  #forgetOld(now: number): void {
    // Past its deadline a nonce's timestamp is outside the window, so the clock check refuses a
    // replay. Deadlines are nearly in insertion order; one kept a little late does no harm.
    for (const [nonce, until] of this.#seen) {
      if (until >= now) break;
      this.#seen.delete(nonce);
    }
  }

  #mac(call: SignedCall, t: number, nonce: string): Buffer {
    // Newlines cannot occur in header values or in a request target, so the fields never blur.
    const text = ['v1', t, nonce, call.method.toUpperCase(), call.target, call.depth, call.caller, call.timeoutMs ?? '', call.async ? 'async' : 'sync'].join('\n');
    return createHmac('sha256', this.#key).update(text).digest();
  }
}
