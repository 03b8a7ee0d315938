// The Fetch API's Response, as the node's HTTP server installs it (see fetch-globals.ts). It keeps
// the body as it was given (text, bytes, a stream or a Blob), so that the server writes text and
// bytes to the socket as they are, and makes a ReadableStream only when one is asked for.

import { FetchHeaders, type HeadersLike } from './fetch-headers.js';

export type RawBody = string | Uint8Array | ReadableStream<Uint8Array> | Blob | null;

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
/** The content type of a text body, as the node writes it. */
export const TEXT = 'text/plain; charset=UTF-8';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// The raw body behind each stream this module made, so that a Response built from another one's
// `body` (as Hono does when it adds a header to a finished response) keeps the raw body.
const rawOfStream = new WeakMap<ReadableStream<Uint8Array>, Exclude<RawBody, null>>();

function streamOf(raw: Exclude<RawBody, null>): ReadableStream<Uint8Array> {
  if (raw instanceof ReadableStream) return raw;
  if (raw instanceof Blob) return raw.stream() as ReadableStream<Uint8Array>;
  const bytes = typeof raw === 'string' ? encoder.encode(raw) : raw;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
  rawOfStream.set(stream, raw);
  return stream;
}

/** An ArrayBuffer holding exactly these bytes: theirs when they fill it, else a copy. */
export function wholeBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes.buffer as ArrayBuffer;
  // (Not bytes.slice(): on a Buffer, which may sit in Node's shared pool, slice() makes a view.)
  return copyOf(bytes).buffer as ArrayBuffer;
}

function copyOf(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

async function bytesOf(raw: RawBody): Promise<Uint8Array> {
  if (raw === null) return new Uint8Array(0);
  if (typeof raw === 'string') return encoder.encode(raw);
  if (raw instanceof Uint8Array) return copyOf(raw);
  if (raw instanceof Blob) return new Uint8Array(await raw.arrayBuffer());
  const chunks: Uint8Array[] = [];
  for await (const chunk of raw) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * Headers given as a plain object with lowercase names (as the node's routes and Hono give them),
 * or undefined for any other kind of headers, which go through Headers.
 */
function plainRecord(headers: unknown): Record<string, string | string[]> | undefined {
  if (headers === null || typeof headers !== 'object' || Object.getPrototypeOf(headers) !== Object.prototype) return undefined;
  const record = headers as Record<string, unknown>;
  for (const name in record) {
    const value = record[name];
    if (name !== name.toLowerCase() || !(typeof value === 'string' || Array.isArray(value))) return undefined;
  }
  return record as Record<string, string | string[]>;
}

/** A body init as the Fetch API takes it, with the content type it implies. */
function extract(body: unknown): { raw: RawBody; type?: string } {
  if (body === null || body === undefined) return { raw: null };
  // (The Fetch API writes text/plain;charset=UTF-8, without the space: the node has always sent
  // text with the space, and keeps it so.)
  if (typeof body === 'string') return { raw: body, type: TEXT };
  if (body instanceof Uint8Array) return { raw: body };
  if (body instanceof ArrayBuffer || body instanceof SharedArrayBuffer) return { raw: new Uint8Array(body) };
  if (ArrayBuffer.isView(body)) return { raw: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
  if (body instanceof ReadableStream) {
    const raw = rawOfStream.get(body as ReadableStream<Uint8Array>);
    // A stream of ours that nobody read yet stands for its raw body.
    return { raw: raw !== undefined && !body.locked ? raw : (body as ReadableStream<Uint8Array>) };
  }
  if (body instanceof Blob) return { raw: body, type: body.type || undefined };
  if (body instanceof URLSearchParams) return { raw: body.toString(), type: 'application/x-www-form-urlencoded;charset=UTF-8' };
  throw new TypeError(`this server does not take a ${Object.prototype.toString.call(body).slice(8, -1)} as a response body`);
}

export interface FetchResponseInit {
  status?: number;
  statusText?: string;
  headers?: HeadersLike | FetchHeaders | null;
}

export class FetchResponse {
  readonly status: number;
  readonly statusText: string;
  readonly type: 'default' | 'error' = 'default';
  readonly url = '';
  readonly redirected = false;
  #raw: RawBody;
  #stream: ReadableStream<Uint8Array> | undefined;
  #used = false;
  // Headers given as a plain record are kept as they are until somebody reads `headers`: the
  // server writes them so (most responses of the invocation path never build a Headers object).
  #headers: FetchHeaders | undefined;
  #plain: Record<string, string | string[]> | undefined;
  #impliedType: string | undefined;

  constructor(body?: unknown, init: FetchResponseInit = {}) {
    const status = init.status ?? 200;
    if (!Number.isInteger(status) || status < 200 || status > 599) throw new RangeError(`a response status must be 200–599, not ${status}`);
    this.status = status;
    this.statusText = init.statusText ?? '';
    const { raw, type } = extract(body);
    if (raw !== null && NULL_BODY_STATUS.has(status)) throw new TypeError(`a response with status ${status} has no body`);
    this.#raw = raw;
    this.#impliedType = type;
    this.#plain = plainRecord(init.headers);
    if (this.#plain === undefined) this.#headers = this.#withType(new FetchHeaders(init.headers as HeadersLike | undefined));
  }

  get headers(): FetchHeaders {
    if (this.#headers === undefined) {
      this.#headers = this.#withType(new FetchHeaders(this.#plain));
      this.#plain = undefined;
    }
    return this.#headers;
  }

  /**
   * The headers as Node's `writeHead` takes them (lowercase names, set-cookie as an array), in an
   * object of their own. For the server's writer; not part of the Fetch API.
   */
  nodeHeaders(): Record<string, string | string[]> {
    if (this.#plain === undefined) return this.headers.toNodeHeaders();
    const out = { ...this.#plain };
    if (this.#impliedType !== undefined && out['content-type'] === undefined) out['content-type'] = this.#impliedType;
    return out;
  }

  #withType(headers: FetchHeaders): FetchHeaders {
    if (this.#impliedType !== undefined && !headers.has('content-type')) headers.set('content-type', this.#impliedType);
    return headers;
  }

  static json(data: unknown, init: FetchResponseInit = {}): FetchResponse {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError('the value has no JSON form');
    const response = new FetchResponse(text, init);
    if (!new FetchHeaders(init.headers as HeadersLike | undefined).has('content-type')) response.headers.set('content-type', 'application/json');
    return response;
  }

  static redirect(url: string | URL, status = 302): FetchResponse {
    if (!REDIRECT_STATUS.has(status)) throw new RangeError(`${status} is not a redirect status`);
    return new FetchResponse(null, { status, headers: { location: new URL(url).href } });
  }

  static error(): FetchResponse {
    // The one response with status 0, which the constructor refuses.
    const response = new FetchResponse(null);
    return Object.assign(response, { status: 0, type: 'error' });
  }

  get ok(): boolean {
    return this.status >= 200 && this.status <= 299;
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.#raw === null) return null;
    return (this.#stream ??= streamOf(this.#raw));
  }

  get bodyUsed(): boolean {
    return this.#used || (this.#stream !== undefined && this.#stream.locked);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return wholeBuffer(await this.bytes());
  }

  async bytes(): Promise<Uint8Array> {
    return bytesOf(this.#take());
  }

  async text(): Promise<string> {
    const raw = this.#take();
    return typeof raw === 'string' ? raw : decoder.decode(await bytesOf(raw));
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async blob(): Promise<Blob> {
    return new Blob([(await this.bytes()) as Uint8Array<ArrayBuffer>], { type: this.headers.get('content-type') ?? '' });
  }

  async formData(): Promise<never> {
    throw new TypeError('this server does not parse form data');
  }

  clone(): FetchResponse {
    if (this.bodyUsed) throw new TypeError('the body was already read');
    let body: unknown = this.#raw;
    if (this.#raw instanceof ReadableStream) {
      const [a, b] = this.#raw.tee();
      this.#raw = a;
      this.#stream = undefined;
      body = b;
    }
    return new FetchResponse(body, { status: this.status, statusText: this.statusText, headers: this.headers });
  }

  get [Symbol.toStringTag](): string {
    return 'Response';
  }

  /** The body as given, for the server's writer; not part of the Fetch API. Marks it read. */
  takeRawBody(): RawBody {
    return this.#take();
  }

  #take(): RawBody {
    // A stream handed out but not read yet still stands for the raw body.
    if (this.bodyUsed) throw new TypeError('the body was already read');
    this.#used = true;
    return this.#raw;
  }
}
