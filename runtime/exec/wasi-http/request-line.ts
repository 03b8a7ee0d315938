// How both engines show a wasi:http guest the request the node received: its method as the WIT's
// variant, its path with the raw query, its scheme (HTTPS when it came over TLS) and its
// authority (the Host it was sent to).

import type { GuestRequest } from '../protocol.js';

const METHODS = new Set(['get', 'head', 'post', 'put', 'delete', 'connect', 'options', 'trace', 'patch']);

export function requestMethod(request: GuestRequest): { tag: string; val?: string } {
  const lower = request.method.toLowerCase();
  return METHODS.has(lower) ? { tag: lower } : { tag: 'other', val: request.method };
}

export function requestPathWithQuery(request: GuestRequest): string {
  return request.query === '' ? request.path : `${request.path}?${request.query}`;
}

export function requestScheme(request: GuestRequest): { tag: 'HTTP' | 'HTTPS' } {
  return { tag: request.scheme === 'https' ? 'HTTPS' : 'HTTP' };
}

export function requestAuthority(request: GuestRequest): string | undefined {
  return request.headers.find(([name]) => name === 'host')?.[1];
}
