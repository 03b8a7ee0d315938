// Bearer-token protection of the management API.

import { timingSafeEqual, createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { EnokiError } from '../errors.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** A check of "Authorization: Bearer <token>" against the admin token, in constant time. */
export function adminCheck(token: string): (authorization: string | undefined) => boolean {
  const expected = digest(token);
  return (authorization) => {
    const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    // Comparing fixed-length digests keeps the check constant-time whatever the input length.
    return match !== null && timingSafeEqual(digest(match[1].trim()), expected);
  };
}

export function requireAdmin(token: string): MiddlewareHandler {
  const isAdmin = adminCheck(token);
  return async (c, next) => {
    if (!isAdmin(c.req.header('authorization'))) {
      throw new EnokiError('ERR_UNAUTHORIZED', 'the management API needs "Authorization: Bearer <admin token>"');
    }
    await next();
  };
}
