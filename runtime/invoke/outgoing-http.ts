// Outgoing HTTP of wasi:http guests (wasi:http/outgoing-handler), made by the main thread for the
// guest's worker: only to the hosts of the function's allow-list (deny by default), within what
// is left of the call's timeout, with request and response bodies bounded by the node's body
// limit. Redirects are not followed (the guest sees them), so a redirect cannot lead past the
// allow-list. Every failure is a wasi:http error-code for the guest; a refused host is also
// reported to the caller (ERR_HTTP_HOST_NOT_ALLOWED in the call's log).

import { hostAllowed } from '../functions/allowed-hosts.js';
import type { ErrorCode, OutgoingHttpRequest, OutgoingHttpResult } from '../exec/protocol.js';

export interface OutgoingHttpPolicy {
  allowedHosts: readonly string[];
  maxBodyBytes: number;
  /** Time left for the call, ms; the request is aborted then. */
  remainingMs(): number;
}

/** Headers fetch sets itself or refuses from a caller. */
const DROPPED_HEADERS = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length', 'expect', 'te']);

export class OutgoingHttpDenied extends Error {}

const TIMEOUT_GRACE_MS = 1000;

function errorCodeOf(err: unknown, timedOut: boolean): ErrorCode {
  if (timedOut) return { tag: 'connection-timeout' };
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  switch (cause?.code) {
    case 'ECONNREFUSED':
      return { tag: 'connection-refused' };
    case 'ECONNRESET':
      return { tag: 'connection-terminated' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { tag: 'DNS-error', val: { rcode: cause.code, infoCode: undefined } };
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { tag: 'connection-timeout' };
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return { tag: 'HTTP-response-timeout' };
    default:
      if (typeof cause?.code === 'string' && cause.code.startsWith('ERR_TLS') || /certificate/i.test(cause?.message ?? '')) {
        return { tag: 'TLS-certificate-error' };
      }
      return { tag: 'internal-error', val: (cause?.message ?? (err as Error)?.message ?? String(err)).slice(0, 500) };
  }
}

async function readBounded(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array | undefined> {
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) {
      await body.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(chunk);
  }
  const all = Buffer.concat(chunks, size);
  return new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
}

/**
 * Makes one request for a guest. Throws OutgoingHttpDenied (after nothing was sent) when the host
 * is not allowed; every other failure is an answer with an error-code.
 */
export async function sendOutgoingHttp(request: OutgoingHttpRequest, policy: OutgoingHttpPolicy): Promise<OutgoingHttpResult> {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return { ok: false, error: { tag: 'HTTP-request-URI-invalid' } };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, error: { tag: 'HTTP-protocol-error' } };
  if (!hostAllowed(policy.allowedHosts, url)) throw new OutgoingHttpDenied(`outgoing request to ${url.host} refused: not in the function's allowed hosts`);
  if (request.body && request.body.byteLength > policy.maxBodyBytes) {
    return { ok: false, error: { tag: 'HTTP-request-body-size', val: BigInt(request.body.byteLength) } };
  }
  const remaining = policy.remainingMs();
  if (remaining <= 0) return { ok: false, error: { tag: 'connection-timeout' } };
  const headers = new Headers();
  for (const [name, value] of request.headers) if (!DROPPED_HEADERS.has(name)) headers.append(name, value);
  const controller = new AbortController();
  let timedOut = false;
  // The call's own timeout ends a call that is still waiting at its deadline (ERR_TIMEOUT, its
  // worker replaced); the request is cut a little later, so that it is that timeout the caller
  // sees, not the guest's handling of a failed request.
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, remaining + TIMEOUT_GRACE_MS);
  try {
    const hasBody = request.body !== undefined && request.method !== 'GET' && request.method !== 'HEAD';
    const response = await fetch(url, {
      method: request.method,
      headers,
      body: hasBody ? (request.body as Uint8Array<ArrayBuffer>) : undefined,
      redirect: 'manual',
      signal: controller.signal,
    });
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > policy.maxBodyBytes) {
      await response.body?.cancel().catch(() => undefined);
      return { ok: false, error: { tag: 'HTTP-response-body-size', val: BigInt(declared) } };
    }
    const body = await readBounded(response.body, policy.maxBodyBytes);
    if (!body) return { ok: false, error: { tag: 'HTTP-response-body-size', val: undefined } };
    // fetch has already decoded a compressed body: its coding and length no longer describe it.
    const decoded = response.headers.has('content-encoding');
    const pairs: [string, string][] = [];
    response.headers.forEach((value, name) => {
      if (!(decoded && (name === 'content-encoding' || name === 'content-length'))) pairs.push([name, value]);
    });
    return { ok: true, status: response.status, headers: pairs, body };
  } catch (err) {
    return { ok: false, error: errorCodeOf(err, timedOut) };
  } finally {
    clearTimeout(timer);
  }
}
