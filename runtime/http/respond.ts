// JSON error bodies with stable codes, shared by every route.

import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { EnokiError, toEnokiError } from '../errors.js';

export function errorResponse(c: Context, err: unknown): Response {
  const error = toEnokiError(err);
  // The header tells a node forwarding a guest's call an error of Enoki's from a function's own
  // response with the same status (see invoke/http-remote-functions.ts).
  return c.json(error.toJSON(), error.status as ContentfulStatusCode, { 'x-enoki-error-code': error.code });
}

export function tooLarge(limit: number, what: string): EnokiError {
  return new EnokiError('ERR_BODY_TOO_LARGE', `${what} is larger than the limit of ${limit} bytes`, { limit });
}

/**
 * A query parameter that is given once at most: undefined when absent. A repeated one is refused
 * rather than read as its first value, so that a client never has a value it sent ignored.
 */
export function queryOnce(c: Context, name: string): string | undefined {
  const all = c.req.queries(name);
  if (all === undefined || all.length === 0) return undefined;
  if (all.length > 1) throw new EnokiError('ERR_INVALID_OPTION', `${name} may be given once, got ${all.length} values`);
  return all[0];
}
