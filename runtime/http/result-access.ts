// Who may read an async invocation's result. The result is stored with an owner tag: a keyed hash
// (HMAC-SHA256 with a secret of the node) of the credentials the invoking request carried, its
// Authorization header and, under mTLS, its verified client certificate. A reader must present
// the same credentials, or the admin token. A request without credentials gets a secret result
// token in its 202 answer instead, and the tag is the hash of that token. The invocation id alone
// never suffices: it travels in URLs and logs. The key keeps the tags useless to anyone who
// reads the data directory: without it, they cannot be checked against guessed credentials.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Context } from 'hono';
import { adminCheck } from './auth.js';

/** What identifies a caller: its Authorization header and its verified client certificate. */
export interface Credentials {
  authorization?: string;
  /** SHA-256 fingerprint of a client certificate the TLS layer verified. */
  certificate?: string;
}

export interface Reader extends Credentials {
  /** The X-Enoki-Result-Token header. */
  resultToken?: string;
}

export const RESULT_TOKEN_HEADER = 'x-enoki-result-token';

/** The owner tag of results only the admin token can read (a guest's call-async without credentials). */
export const ADMIN_ONLY = 'admin-only';

/** The credentials of an HTTP request; the certificate only when the TLS layer verified it. */
export function credentialsOf(c: Context): Credentials {
  const socket = (c.env as { incoming?: { socket?: Partial<TLSSocket> } } | undefined)?.incoming?.socket;
  let certificate: string | undefined;
  if (socket?.authorized === true && typeof socket.getPeerCertificate === 'function') {
    certificate = socket.getPeerCertificate()?.fingerprint256 || undefined;
  }
  return { authorization: c.req.header('authorization') || undefined, certificate };
}

export function readerOf(c: Context): Reader {
  return { ...credentialsOf(c), resultToken: c.req.header(RESULT_TOKEN_HEADER) || undefined };
}

export class ResultAccess {
  readonly #key: Buffer;
  readonly #isAdmin: (authorization: string | undefined) => boolean;

  constructor(key: string | Buffer, adminToken: string) {
    this.#key = Buffer.from(key);
    this.#isAdmin = adminCheck(adminToken);
  }

  /**
   * The owner tag for an invocation made with `credentials`. Without any, `issueToken` makes a
   * result token (returned once, to the invoker) and tags the result with it; otherwise only the
   * admin token will read the result.
   */
  ownerOf(credentials: Credentials, issueToken: boolean): { owner: string; resultToken?: string } {
    if (credentials.authorization === undefined && credentials.certificate === undefined) {
      if (!issueToken) return { owner: ADMIN_ONLY };
      const resultToken = randomBytes(24).toString('base64url');
      return { owner: this.#tag('token', resultToken), resultToken };
    }
    return { owner: this.#tag('credentials', credentials.authorization ?? '', credentials.certificate ?? '') };
  }

  mayRead(owner: string, reader: Reader): boolean {
    if (this.#isAdmin(reader.authorization)) return true;
    if (owner === ADMIN_ONLY) return false;
    const candidates: string[] = [];
    if (reader.resultToken !== undefined) candidates.push(this.#tag('token', reader.resultToken));
    if (reader.authorization !== undefined || reader.certificate !== undefined) {
      candidates.push(this.#tag('credentials', reader.authorization ?? '', reader.certificate ?? ''));
    }
    const expected = Buffer.from(owner, 'hex');
    return candidates.some((tag) => {
      const given = Buffer.from(tag, 'hex');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
  }

  #tag(kind: string, ...parts: string[]): string {
    // NUL separators: no part can contain one (HTTP header values cannot), so parts never blur.
    return createHmac('sha256', this.#key).update([kind, ...parts].join('\0')).digest('hex');
  }
}
