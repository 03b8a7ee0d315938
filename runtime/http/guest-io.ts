// Translation between HTTP and the guest's request/response records, on the invocation hot path.
//
// Under the node's own server (./server) the request is read straight from Node's IncomingMessage
// (raw header list, body chunks) and the response is handed back with plain-object headers, which
// the server writes as they are, without building a Headers object: parsing and joining headers
// cost more per call than running a small guest. Other adapters (app.request in tests) take the
// Fetch API path with the same results.

import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { EnokiError } from '../errors.js';
import type { GuestRequest, GuestResponse } from '../exec/protocol.js';
import { tooLarge } from './respond.js';
import { BAD_VALUE, HEADER_NAME } from './server/fetch-headers.js';
import { withoutContent } from '../exec/response-fields.js';
import { readIncomingBody } from './server/incoming-body.js';

/** What the Fetch API path gave a body without a content type; kept so both paths agree. */
const DEFAULT_CONTENT_TYPE = 'text/plain; charset=UTF-8';

function incomingOf(c: Context): IncomingMessage | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming && Array.isArray(incoming.rawHeaders) ? incoming : undefined;
}

/**
 * Characters the URL parser leaves as they are in a path (no dot segments: no '.' at all; no
 * '%', which could spell one; no '\\', which it reads as '/') and in a query of an http URL.
 */
const PLAIN_PATH = /^[A-Za-z0-9\-_~!$&()*+,;=:@/]*$/;
const PLAIN_QUERY = /^[A-Za-z0-9\-._~!$&()*+,;=:@/?%]*$/;

export function splitTarget(target: string, prefix: string): { path: string; query: string } {
  // Most targets are plain: taken apart as they are, without parsing a URL on every call.
  const q = target.indexOf('?');
  const pathPart = q < 0 ? target : target.slice(0, q);
  if (
    pathPart.startsWith(prefix) &&
    (pathPart.length === prefix.length || pathPart.charCodeAt(prefix.length) === 0x2f) &&
    PLAIN_PATH.test(pathPart) &&
    (q < 0 || PLAIN_QUERY.test(target.slice(q + 1)))
  ) {
    const rest = pathPart.slice(prefix.length);
    return { path: rest === '' ? '/' : rest, query: q < 0 ? '' : target.slice(q + 1) };
  }
  // The URL parser normalizes dot segments and percent-encoding the same way for both paths.
  const url = new URL(target, 'http://localhost');
  const rest = url.pathname.slice(prefix.length);
  return { path: rest === '' ? '/' : rest, query: url.search.slice(1) };
}

/** The request target as it came on the request line: path and query. */
export function requestTarget(c: Context): string {
  const incoming = incomingOf(c);
  if (incoming?.url !== undefined) return incoming.url;
  const url = new URL(c.req.url);
  return url.pathname + url.search;
}

/**
 * The guest's view of an HTTP request to /fn/{name}/...; the body is capped at maxBodyBytes. A
 * request whose body is already known (none, most often) is answered at once, not through a
 * promise: the call then goes on in this turn of the microtask queue.
 */
export function guestRequest(c: Context, name: string, maxBodyBytes: number): GuestRequest | Promise<GuestRequest> {
  const prefix = `/fn/${name}`;
  const incoming = incomingOf(c);
  if (incoming) {
    const raw = incoming.rawHeaders;
    const headers: [string, string][] = new Array(raw.length / 2);
    let declared: string | undefined;
    let chunked = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toLowerCase();
      headers[i / 2] = [name, raw[i + 1]];
      // The first content-length, as Node's own `headers` object keeps it.
      if (name === 'content-length') declared ??= raw[i + 1];
      else if (name === 'transfer-encoding') chunked = true;
    }
    const { path, query } = splitTarget(incoming.url ?? '/', prefix);
    const method = incoming.method ?? 'GET';
    const body = readIncomingBody(incoming, { maxBytes: maxBodyBytes, declared, chunked, tooLarge: () => tooLarge(maxBodyBytes, 'the request body') });
    const secure = (incoming.socket as { encrypted?: boolean } | null)?.encrypted === true;
    const request = (bytes: Uint8Array): GuestRequest =>
      secure ? { method, path, query, headers, body: bytes, scheme: 'https' } : { method, path, query, headers, body: bytes };
    return body instanceof Uint8Array ? request(body) : body.then(request);
  }
  return fetchRequest(c, prefix, maxBodyBytes);
}

/** guestRequest under adapters other than the node's own: through the Fetch API's Request. */
async function fetchRequest(c: Context, prefix: string, maxBodyBytes: number): Promise<GuestRequest> {
  const request = c.req.raw;
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > maxBodyBytes) throw tooLarge(maxBodyBytes, 'the request body');
  const body = new Uint8Array(await request.arrayBuffer());
  if (body.byteLength > maxBodyBytes) throw tooLarge(maxBodyBytes, 'the request body');
  const headers: [string, string][] = [];
  request.headers.forEach((value, key) => headers.push([key, value]));
  const scheme = new URL(request.url).protocol === 'https:' ? { scheme: 'https' as const } : {};
  return { method: request.method, ...splitTarget(request.url, prefix), headers, body, ...scheme };
}

/** Small bodies of ASCII this long at most are handed on as text. */
const TEXT_BODY_MAX = 16 * 1024;

/**
 * A small ASCII body as the same bytes in a string: Node writes the headers and a string body in
 * one write, where a byte body costs a second one (a writev) on every response. ASCII only, so
 * that the string's UTF-8 encoding is the guest's bytes exactly and their length is its length.
 */
function asciiText<B>(body: B): B | string {
  if (!(body instanceof Uint8Array) || body.length > TEXT_BODY_MAX) return body;
  for (let i = 0; i < body.length; i++) if (body[i] >= 0x80) return body;
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1');
}

/**
 * The HTTP response for a guest's response plus the node's own headers. Header names and values
 * are validated here (the guest is untrusted); a bad one fails the call with a clear code.
 */
export function httpResponse(c: Context, response: GuestResponse, extra: Record<string, string>): Response {
  return guestHttpResponse(c, response.status, response.headers, response.body, extra);
}

/** httpResponse for a response whose body is a stream (an async result read from disk). */
export function guestHttpResponse(
  c: Context,
  status: number,
  guestHeaders: [string, string][],
  guestBody: Uint8Array | ReadableStream<Uint8Array>,
  extra: Record<string, string>,
): Response {
  const headers: Record<string, string | string[]> = {};
  for (const [rawName, value] of guestHeaders) {
    if (!HEADER_NAME.test(rawName) || typeof value !== 'string' || BAD_VALUE.test(value)) {
      // A stream holds an open file: release it.
      if (!(guestBody instanceof Uint8Array)) void guestBody.cancel();
      throw new EnokiError('ERR_GUEST_BAD_RESPONSE', `the function returned an invalid header: ${JSON.stringify(rawName)}`);
    }
    const name = rawName.toLowerCase();
    const seen = headers[name];
    if (seen === undefined) headers[name] = value;
    // Repeated, a content-length has the same value each time (checked where the guest answered).
    else if (name === 'content-length') continue;
    else if (name === 'set-cookie') headers[name] = Array.isArray(seen) ? [...seen, value] : [seen, value];
    else headers[name] = `${seen as string}, ${value}`;
  }
  // Reserved for the node's own errors, so that a node forwarding a call can tell them apart.
  // (Deleted only when present: a delete turns the object into a slow dictionary.)
  if (headers['x-enoki-error-code'] !== undefined) delete headers['x-enoki-error-code'];
  for (const name in extra) headers[name] = extra[name];
  // Responses HTTP gives no content: a body the guest gave them is not sent.
  const nullBody = status < 200 || withoutContent(status, undefined);
  if (!nullBody && headers['content-type'] === undefined) headers['content-type'] = DEFAULT_CONTENT_TYPE;
  if (nullBody && !(guestBody instanceof Uint8Array)) void guestBody.cancel();
  const body = nullBody ? null : asciiText(guestBody as Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>);
  // Under the node's own server, Response is its class: with a Uint8Array body and plain headers
  // (arrays for repeated set-cookie) it is written to the socket as they are.
  if (incomingOf(c)) return new Response(body, { status, headers: headers as unknown as HeadersInit });
  const fetchHeaders = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    for (const one of Array.isArray(value) ? value : [value]) fetchHeaders.append(name, one);
  }
  return new Response(body, { status, headers: fetchHeaders });
}
