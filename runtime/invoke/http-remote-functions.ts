// Calls to functions of other nodes over their HTTP API (`/fn/{name}`), for names this node routes
// (ENOKI_FUNCTION_ROUTES). Connections are kept alive per node; https uses the node's CA and
// presents its certificate, so a node serving mtls accepts the call. The call's context travels as
// X-Enoki-Call-* headers, signed with the nodes' shared secret when there is one (the other node
// honours them only then, or over mTLS: see call-signature.ts); an Enoki error of the other node
// comes back under its own code.

import type { ClientRequest } from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import type { FunctionRoutes } from '../config.js';
import { EnokiError, ERROR_TABLE, type ErrorCode } from '../errors.js';
import type { GuestRequest, GuestResponse } from '../exec/protocol.js';
import { CALL_HEADERS, callHeaders, type CallContext } from './call-context.js';
import { SIGNATURE_HEADER, type CallSigner } from './call-signature.js';
import type { RemoteFunctions } from './guest-calls.js';
import http from '../node-http.js';

export interface HttpRemoteFunctionsOptions {
  routes: FunctionRoutes;
  /** The node's CA, certificate and key, for https routes; without them the system CAs. */
  tls?: { ca: string | Buffer; cert: string | Buffer; key: string | Buffer };
  /** Largest response body accepted from the other node, bytes. */
  maxBodyBytes: number;
  /** How long a call-async may wait for the other node's 202, ms. */
  asyncAnswerMs: number;
  /** Signs the call headers (ENOKI_CALL_SECRET); without it they travel unsigned. */
  signer?: CallSigner;
  logger: Logger;
}

/** Headers of one connection, or set by this module: never copied between request and response. */
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'transfer-encoding',
  'te',
  'upgrade',
  'host',
  'content-length',
  'x-enoki-async',
  'prefer',
]);

interface Answer {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

export class HttpRemoteFunctions implements RemoteFunctions {
  readonly #http = new http.Agent({ keepAlive: true });
  readonly #https: https.Agent;

  constructor(private readonly options: HttpRemoteFunctionsOptions) {
    this.#https = new https.Agent({ keepAlive: true, ...options.tls });
  }

  routes(name: string): boolean {
    return this.#base(name) !== undefined;
  }

  async call(name: string, request: GuestRequest, context: CallContext): Promise<GuestResponse> {
    const answer = await this.#send(name, request, context, false, context.remainingMs ?? this.options.asyncAnswerMs);
    return { status: answer.status, headers: answer.headers, body: answer.body };
  }

  async callAsync(name: string, request: GuestRequest, context: CallContext, waitMs: number): Promise<string> {
    const answer = await this.#send(name, request, context, true, Math.min(waitMs, this.options.asyncAnswerMs));
    let id: unknown;
    try {
      id = (JSON.parse(Buffer.from(answer.body).toString('utf8')) as { invocationId?: unknown }).invocationId;
    } catch {
      // handled below
    }
    if (answer.status !== 202 || typeof id !== 'string') {
      throw new EnokiError('ERR_CALL_UNAVAILABLE', `${name}: the node answered ${answer.status} without an invocation id`);
    }
    return id;
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }

  #base(name: string): string | undefined {
    return this.options.routes.byName[name] ?? this.options.routes.fallback;
  }

  /** The callee's URL; a path that would leave /fn/{name} (dot segments, a query) is refused. */
  #url(base: string, name: string, request: GuestRequest): URL {
    const prefix = `${new URL(base).pathname.replace(/\/+$/, '')}/fn/${name}`;
    const bad = () => new EnokiError('ERR_BAD_REQUEST', `invalid path for a call of ${name}: "${request.path.slice(0, 100)}"`);
    if (!request.path.startsWith('/') || /[?#]/.test(request.path)) throw bad();
    const url = new URL(`${base}/fn/${name}${request.path === '/' ? '' : request.path}`);
    if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) throw bad();
    url.search = request.query;
    return url;
  }

  async #send(name: string, request: GuestRequest, context: CallContext, async: boolean, waitMs: number): Promise<Answer> {
    const url = this.#url(this.#base(name) as string, name, request);
    const headers: Record<string, string | string[]> = {};
    for (const [key, value] of request.headers) {
      const k = key.toLowerCase();
      // The guest's own X-Enoki-Call* headers (x-enoki-caller too) would pass for this node's.
      if (NOT_FORWARDED.has(k) || k.startsWith('x-enoki-call')) continue;
      headers[k] = headers[k] === undefined ? value : [...[headers[k]].flat(), value];
    }
    const call = callHeaders(context);
    Object.assign(headers, call, async ? { 'x-enoki-async': 'true' } : {});
    if (this.options.signer) {
      headers[SIGNATURE_HEADER] = this.options.signer.sign({
        method: request.method,
        target: url.pathname + url.search,
        depth: call[CALL_HEADERS.depth],
        caller: call[CALL_HEADERS.caller],
        timeoutMs: call[CALL_HEADERS.remainingMs],
        async,
      });
    }
    headers['content-length'] = String(request.body.byteLength);
    const answer = await this.#exchange(url, request.method, headers, request.body, waitMs, name);
    const code = answer.headers.find(([k]) => k === 'x-enoki-error-code')?.[1];
    if (code !== undefined) throw this.#remoteError(name, url, code, answer.body);
    return answer;
  }

  #remoteError(name: string, url: URL, code: string, body: Uint8Array): EnokiError {
    let message = '';
    try {
      message = String((JSON.parse(Buffer.from(body).toString('utf8')) as { error?: { message?: unknown } }).error?.message ?? '');
    } catch {
      // an error without a JSON body still has its code
    }
    const where = `${name} on ${url.host}`;
    if (!(code in ERROR_TABLE)) return new EnokiError('ERR_CALL_UNAVAILABLE', `${where} failed with unknown code ${code.slice(0, 60)}: ${message}`);
    return new EnokiError(code as ErrorCode, `${where}: ${message}`);
  }

  #exchange(url: URL, method: string, headers: Record<string, string | string[]>, body: Uint8Array, waitMs: number, name: string): Promise<Answer> {
    const client = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === 'https:' ? this.#https : this.#http;
    return new Promise<Answer>((resolve, reject) => {
      let req: ClientRequest;
      const timer = setTimeout(() => {
        req?.destroy();
        reject(new EnokiError('ERR_TIMEOUT', `${name} on ${url.host} did not answer within ${Math.round(waitMs)} ms`));
      }, Math.max(1, waitMs));
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err instanceof EnokiError ? err : new EnokiError('ERR_CALL_UNAVAILABLE', `${name} on ${url.host}: ${err.message}`));
      };
      try {
        req = client.request(url, { method, headers, agent }, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > this.options.maxBodyBytes) {
              res.destroy();
              fail(new EnokiError('ERR_BODY_TOO_LARGE', `the answer of ${name} on ${url.host} is larger than ${this.options.maxBodyBytes} bytes`));
            } else chunks.push(chunk);
          });
          res.on('error', fail);
          res.on('end', () => {
            clearTimeout(timer);
            const pairs: [string, string][] = [];
            for (let i = 0; i < res.rawHeaders.length; i += 2) {
              const key = res.rawHeaders[i].toLowerCase();
              if (!NOT_FORWARDED.has(key)) pairs.push([key, res.rawHeaders[i + 1]]);
            }
            resolve({ status: res.statusCode ?? 502, headers: pairs, body: new Uint8Array(Buffer.concat(chunks)) });
          });
        });
      } catch (err) {
        // Invalid header names or values from the guest throw before anything is sent.
        clearTimeout(timer);
        reject(new EnokiError('ERR_BAD_REQUEST', `cannot call ${name}: ${(err as Error).message}`));
        return;
      }
      req.on('error', fail);
      req.end(body);
    });
  }
}
