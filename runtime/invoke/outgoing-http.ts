// Outgoing HTTP of wasi:http guests (wasi:http/outgoing-handler), made by the main thread for
// either engine: only to the hosts of the function's allow-list (deny by default), within what is
// left of the call's timeout and the timeouts the guest set in its request-options, with request
// and response bodies bounded by the node's body limit. Made with Node's http client, not fetch:
// the guest gets the response as the server sent it (no content coding undone, no redirect
// followed, so a redirect cannot lead past the allow-list), and each phase of the exchange can
// have its own timeout. Every failure is a wasi:http error-code for the guest; a refused host is
// also reported to the caller (ERR_HTTP_HOST_NOT_ALLOWED in the call's log).

import { createRequire } from 'node:module';
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import type { Socket } from 'node:net';
import nodeHttp from '../node-http.js';
import { hostAllowed } from '../functions/allowed-hosts.js';
import type { ErrorCode, OutgoingHttpRequest, OutgoingHttpResult } from '../exec/protocol.js';

export interface OutgoingHttpPolicy {
  allowedHosts: readonly string[];
  maxBodyBytes: number;
  /** Time left for the call, ms; the request is aborted then. */
  remainingMs(): number;
}

/** Headers the client sets itself (from the URL and the body) or that are about the connection. */
const DROPPED_HEADERS = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length', 'expect', 'te']);

export class OutgoingHttpDenied extends Error {}

const TIMEOUT_GRACE_MS = 1000;

/** TLS errors about the peer's certificate, as Node names them (OpenSSL's verify codes among them). */
const CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME/;

function errorCodeOf(err: unknown): ErrorCode {
  const { code, message } = (err ?? {}) as { code?: string; message?: string };
  switch (code) {
    case 'ECONNREFUSED':
      return { tag: 'connection-refused' };
    case 'ECONNRESET':
    case 'EPIPE':
      return { tag: 'connection-terminated' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return { tag: 'DNS-error', val: { rcode: code, infoCode: undefined } };
    case 'ETIMEDOUT':
      return { tag: 'connection-timeout' };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { tag: 'destination-unavailable' };
    default:
      if (typeof code === 'string' && CERTIFICATE.test(code)) return { tag: 'TLS-certificate-error' };
      if (typeof code === 'string' && (code.startsWith('ERR_SSL') || code === 'EPROTO')) return { tag: 'TLS-protocol-error' };
      if (typeof code === 'string' && code.startsWith('HPE_')) return { tag: 'HTTP-protocol-error' };
      return { tag: 'internal-error', val: (message ?? String(err)).slice(0, 500) };
  }
}

/** node:https, loaded at the first https request (TLS costs an idle node memory it need not hold). */
let nodeHttps: typeof import('node:https') | undefined;
const httpsModule = () => (nodeHttps ??= createRequire(import.meta.url)('node:https') as typeof import('node:https'));

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
  // A raw list keeps repeated headers apart; Node then adds no Host of its own.
  const headers: [string, string][] = [['host', url.host], ...request.headers.filter(([name]) => !DROPPED_HEADERS.has(name))];
  const body = request.body !== undefined && request.method !== 'GET' && request.method !== 'HEAD' ? request.body : undefined;
  if (body) headers.push(['content-length', String(body.byteLength)]);
  const options: RequestOptions = { method: request.method, headers: headers.flat() as unknown as RequestOptions['headers'] };
  return new Promise<OutgoingHttpResult>((resolve) => {
    let req: ClientRequest | undefined;
    let phase: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (result: OutgoingHttpResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(phase);
      clearTimeout(deadline);
      resolve(result);
    };
    const fail = (error: ErrorCode) => {
      if (settled) return;
      finish({ ok: false, error });
      req?.destroy();
    };
    /** The next phase of the exchange: `ms` (the guest's timeout for it) or no bound but the call's. */
    const next = (ms: number | undefined, error: ErrorCode) => {
      if (settled) return;
      clearTimeout(phase);
      phase = ms === undefined ? undefined : setTimeout(() => fail(error), ms);
    };
    // The call's own timeout ends a call that is still waiting at its deadline (ERR_TIMEOUT);
    // the request is cut a little later, so that it is that timeout the caller sees, not the
    // guest's handling of a failed request.
    const deadline = setTimeout(() => fail({ tag: 'connection-timeout' }), remaining + TIMEOUT_GRACE_MS);
    const { connectMs, firstByteMs, betweenBytesMs } = request.timeouts ?? {};
    try {
      req = url.protocol === 'https:' ? httpsModule().request(url, options) : nodeHttp.request(url, options);
    } catch (err) {
      // A method or header Node's client refuses.
      return fail({ tag: 'internal-error', val: (err as Error).message.slice(0, 500) });
    }
    req.on('error', (err) => fail(errorCodeOf(err)));
    req.on('socket', (socket: Socket) => {
      const connected = () => next(firstByteMs, { tag: 'connection-read-timeout' });
      if (!socket.connecting) return connected();
      next(connectMs, { tag: 'connection-timeout' });
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', connected);
    });
    req.on('response', (res: IncomingMessage) => {
      next(betweenBytesMs, { tag: 'connection-read-timeout' });
      const declared = Number(res.headers['content-length'] ?? NaN);
      if (declared > policy.maxBodyBytes) return fail({ tag: 'HTTP-response-body-size', val: BigInt(declared) });
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > policy.maxBodyBytes) return fail({ tag: 'HTTP-response-body-size', val: undefined });
        chunks.push(chunk);
        next(betweenBytesMs, { tag: 'connection-read-timeout' });
      });
      res.on('error', (err) => fail(errorCodeOf(err)));
      res.on('aborted', () => fail({ tag: 'HTTP-response-incomplete' }));
      res.on('end', () => {
        if (!res.complete) return fail({ tag: 'HTTP-response-incomplete' });
        const all = Buffer.concat(chunks, size);
        const pairs: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]]);
        finish({ ok: true, status: res.statusCode ?? 0, headers: pairs, body: new Uint8Array(all.buffer, all.byteOffset, all.byteLength) });
      });
    });
    req.end(body);
  });
}
