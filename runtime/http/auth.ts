// Bearer-token protection of the management API.

import { timingSafeEqual, createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { EnokiError } from '../errors.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function requireAdmin(token: string): MiddlewareHandler {
  const expected = digest(token);
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    // Comparing fixed-length digests keeps the check constant-time whatever the input length.
    if (!match || !timingSafeEqual(digest(match[1].trim()), expected)) {
      throw new EnokiError('ERR_UNAUTHORIZED', 'the management API needs "Authorization: Bearer <admin token>"');
    }
    await next();
  };
}
