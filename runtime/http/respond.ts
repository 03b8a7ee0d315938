// JSON error bodies with stable codes, shared by every route.

import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { EnokiError, toEnokiError } from '../errors.js';

export function errorResponse(c: Context, err: unknown): Response {
  const error = toEnokiError(err);
  // The header tells a node forwarding a guest's call an error of Enoki's from a function's own
  // response with the same status (see invoke/remote-functions.ts).
  return c.json(error.toJSON(), error.status as ContentfulStatusCode, { 'x-enoki-error-code': error.code });
}

export function tooLarge(limit: number, what: string): EnokiError {
  return new EnokiError('ERR_BODY_TOO_LARGE', `${what} is larger than the limit of ${limit} bytes`, { limit });
}
