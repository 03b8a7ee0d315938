// The request a route sees (Hono's `c.req.raw`), over Node's IncomingMessage: the parts of the
// Fetch API's Request that Hono and the routes use, each made at its first use.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { EnokiError } from '../../errors.js';
import { FetchHeaders } from './fetch-headers.js';
import { wholeBuffer } from './fetch-response.js';
import { readIncomingBody } from './incoming-body.js';

/** Host header values that keep the URL's authority an authority: no '/', '?', '#', '@' or space. */
const HOST = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;
const decoder = new TextDecoder();

/** The first value of a header in Node's raw header list (the list alternates names and values). */
export function rawHeader(raw: string[], lowerName: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === lowerName.length && raw[i].toLowerCase() === lowerName) return raw[i + 1];
  }
  return undefined;
}

/** The request's absolute URL, or why there is none (answered 400). */
function absoluteUrl(incoming: IncomingMessage): string {
  const target = incoming.url ?? '';
  if (target.startsWith('/')) {
    const host = rawHeader(incoming.rawHeaders, 'host') ?? '';
    if (host !== '' && !HOST.test(host)) throw new EnokiError('ERR_BAD_REQUEST', 'the Host header is not a host');
    const scheme = (incoming.socket as { encrypted?: boolean } | null)?.encrypted ? 'https' : 'http';
    return `${scheme}://${host || 'localhost'}${target}`;
  }
  // The absolute form (proxies send it): taken only when it parses as an http(s) URL.
  if (/^https?:\/\//i.test(target) && URL.canParse(target)) return new URL(target).href;
  throw new EnokiError('ERR_BAD_REQUEST', 'the request target must be a path or an absolute http URL');
}

export class NodeRequest {
  readonly method: string;
  readonly url: string;
  /** At most this many body bytes are read; set by the limitBody middleware. */
  maxBodyBytes = Infinity;
  bodyTooLarge: () => Error = () => new EnokiError('ERR_BODY_TOO_LARGE', 'the request body is too large');
  readonly #incoming: IncomingMessage;
  readonly #outgoing: ServerResponse;
  #headers: FetchHeaders | undefined;
  #body: ReadableStream<Uint8Array> | undefined;
  #abort: AbortController | undefined;
  #used = false;

  constructor(incoming: IncomingMessage, outgoing: ServerResponse) {
    this.#incoming = incoming;
    this.#outgoing = outgoing;
    this.method = incoming.method ?? 'GET';
    this.url = absoluteUrl(incoming);
  }

  get headers(): FetchHeaders {
    if (this.#headers === undefined) {
      const headers = new FetchHeaders();
      const raw = this.#incoming.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
      this.#headers = headers;
    }
    return this.#headers;
  }

  /** Aborted when the client goes away before its response was written. */
  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      const abort = (this.#abort = new AbortController());
      const outgoing = this.#outgoing;
      if (outgoing.closed && !outgoing.writableFinished) abort.abort(new Error('the client closed the connection'));
      else outgoing.once('close', () => outgoing.writableFinished || abort.abort(new Error('the client closed the connection')));
    }
    return this.#abort.signal;
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.method === 'GET' || this.method === 'HEAD') return null;
    return (this.#body ??= Readable.toWeb(this.#incoming) as ReadableStream<Uint8Array>);
  }

  get bodyUsed(): boolean {
    return this.#used || (this.#body !== undefined && this.#body.locked);
  }

  async bytes(): Promise<Uint8Array> {
    if (this.bodyUsed) throw new TypeError('the body was already read');
    this.#used = true;
    const raw = this.#incoming.rawHeaders;
    return readIncomingBody(this.#incoming, {
      maxBytes: this.maxBodyBytes,
      declared: rawHeader(raw, 'content-length'),
      chunked: rawHeader(raw, 'transfer-encoding') !== undefined,
      tooLarge: this.bodyTooLarge,
    });
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return wholeBuffer(await this.bytes());
  }

  async text(): Promise<string> {
    return decoder.decode(await this.bytes());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async blob(): Promise<Blob> {
    return new Blob([(await this.bytes()) as Uint8Array<ArrayBuffer>], { type: rawHeader(this.#incoming.rawHeaders, 'content-type') ?? '' });
  }

  async formData(): Promise<never> {
    throw new EnokiError('ERR_BAD_REQUEST', 'this server does not parse form data');
  }

  get [Symbol.toStringTag](): string {
    return 'Request';
  }
}
