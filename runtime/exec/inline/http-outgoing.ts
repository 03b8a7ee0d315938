// The outgoing half of wasi:http 0.2.x for guests on the event loop: requests the guest builds
// (outgoing-request, request-options), wasi:http/outgoing-handler, and their answers
// (future-incoming-response, incoming-response). The invoker makes the request (allow-list, body
// limits, the call's deadline: invoke/outgoing-http.ts), as for a guest on a worker; the guest
// waits for the answer through its pollable, suspended by JSPI, so the event loop serves others
// meanwhile. A request is sent once its body, if the guest took one, is finished.

import type { OutgoingHttpRequest, OutgoingHttpResult } from '../protocol.js';
import { Fields } from '../wasi-http/fields.js';
import { as, err, ok, plain, type Binding, type GuestHost } from './binding.js';
import { T } from './canon.js';
import { errorCode, fields, IncomingBody, method as methodType, OutgoingBody, scheme as schemeType } from './http-world.js';
import { SettledPollable } from './streams.js';

type Tagged = { tag: string; val?: string };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*$/;
const VISIBLE = /^[\x21-\x7e]*$/;

class RequestOptions {
  connectTimeout?: bigint;
  firstByteTimeout?: bigint;
  betweenBytesTimeout?: bigint;
}

class OutgoingRequest {
  method: Tagged = { tag: 'get' };
  scheme?: Tagged;
  authority?: string;
  pathWithQuery?: string;
  #body?: OutgoingBody;

  constructor(readonly fields: Fields) {
    Fields.lock(fields);
  }

  body(maxBodyBytes: number) {
    if (this.#body) return err();
    // Bounded by the node's body limit as it is written; the guest gets a stream error past it.
    this.#body = new OutgoingBody(Infinity, maxBodyBytes);
    return ok(this.#body);
  }

  setMethod(method: Tagged) {
    if (method.tag === 'other' && !TOKEN.test(method.val ?? '')) return err();
    this.method = method;
    return ok();
  }

  setPathWithQuery(value: string | undefined) {
    if (value !== undefined && !VISIBLE.test(value)) return err();
    this.pathWithQuery = value;
    return ok();
  }

  setScheme(value: Tagged | undefined) {
    if (value?.tag === 'other' && !SCHEME.test(value.val ?? '')) return err();
    this.scheme = value;
    return ok();
  }

  setAuthority(value: string | undefined) {
    if (value !== undefined && (value === '' || !VISIBLE.test(value))) return err();
    this.authority = value;
    return ok();
  }

  /** The request as the invoker sends it, or the error-code it fails with at once. */
  describe(): { request: OutgoingHttpRequest; body?: OutgoingBody } | { error: { tag: string } } {
    const scheme = this.scheme === undefined ? 'https' : this.scheme.tag === 'other' ? (this.scheme.val ?? '') : this.scheme.tag.toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') return { error: { tag: 'HTTP-protocol-error' } };
    if (!this.authority) return { error: { tag: 'HTTP-request-URI-invalid' } };
    let url: URL;
    try {
      url = new URL(`${scheme}://${this.authority}${this.pathWithQuery ?? '/'}`);
    } catch {
      return { error: { tag: 'HTTP-request-URI-invalid' } };
    }
    const method = this.method.tag === 'other' ? (this.method.val ?? '') : this.method.tag.toUpperCase();
    return { request: { method, url: url.href, headers: this.fields.pairs() }, body: this.#body };
  }
}

class IncomingResponse {
  #consumed = false;

  constructor(private readonly result: Extract<OutgoingHttpResult, { ok: true }>) {}

  get status(): number {
    return this.result.status;
  }

  headers(): Fields {
    return Fields.received(this.result.headers);
  }

  consume() {
    if (this.#consumed) return err();
    this.#consumed = true;
    return ok(new IncomingBody(this.result.body));
  }
}

class FutureIncomingResponse {
  #result?: OutgoingHttpResult;
  #taken = false;
  #settle!: () => void;
  readonly #settled = new Promise<void>((resolve) => (this.#settle = resolve));

  settle(result: OutgoingHttpResult): void {
    if (this.#result) return;
    this.#result = result;
    this.#settle();
  }

  subscribe(): SettledPollable {
    return new SettledPollable(() => this.#result !== undefined, this.#settled);
  }

  get() {
    if (this.#result === undefined) return undefined;
    if (this.#taken) return err();
    this.#taken = true;
    const result = this.#result;
    return ok(result.ok ? ok(new IncomingResponse(result)) : err(result.error));
  }
}

function handle(host: GuestHost, request: OutgoingRequest): FutureIncomingResponse {
  const future = new FutureIncomingResponse();
  const described = request.describe();
  if ('error' in described) {
    future.settle({ ok: false, error: described.error });
    return future;
  }
  const send = (body?: Uint8Array) => {
    const req = body ? { ...described.request, body } : described.request;
    if (host.fetch) host.fetch(req, (result) => future.settle(result));
    else future.settle({ ok: false, error: { tag: 'HTTP-request-denied' } });
  };
  if (!described.body) {
    send();
    return future;
  }
  // Sent once the guest finishes the body, which it may write after this call.
  const chunks: Uint8Array[] = [];
  described.body.attach({
    chunk: (bytes) => chunks.push(bytes),
    end: () => send(Buffer.concat(chunks)),
    fail: (reason) => future.settle({ ok: false, error: { tag: 'internal-error', val: `the request body failed: ${reason}` } }),
  });
  return future;
}

const outgoing = (v: unknown) => as(OutgoingRequest, v);
const options = (v: unknown) => as(RequestOptions, v);
const duration = T.option(T.u64);
const setDuration = (key: 'connectTimeout' | 'firstByteTimeout' | 'betweenBytesTimeout') =>
  plain({ params: [T.borrow, duration], result: T.result() }, (_h, [o, d]) => {
    options(o)[key] = d as bigint | undefined;
    return ok();
  });

export const HTTP_OUTGOING_BINDINGS: Record<string, Record<string, Binding>> = {
  'wasi:http/types': {
    '[constructor]outgoing-request': plain({ params: [T.own], result: T.own }, (_h, [f]) => new OutgoingRequest(fields(f))),
    '[method]outgoing-request.body': plain({ params: [T.borrow], result: T.result(T.own) }, (host, [r]) => outgoing(r).body(host.maxBodyBytes)),
    '[method]outgoing-request.method': plain({ params: [T.borrow], result: methodType }, (_h, [r]) => outgoing(r).method),
    '[method]outgoing-request.set-method': plain({ params: [T.borrow, methodType], result: T.result() }, (_h, [r, m]) => outgoing(r).setMethod(m as Tagged)),
    '[method]outgoing-request.path-with-query': plain({ params: [T.borrow], result: T.option(T.string) }, (_h, [r]) => outgoing(r).pathWithQuery),
    '[method]outgoing-request.set-path-with-query': plain({ params: [T.borrow, T.option(T.string)], result: T.result() }, (_h, [r, p]) =>
      outgoing(r).setPathWithQuery(p as string | undefined),
    ),
    '[method]outgoing-request.scheme': plain({ params: [T.borrow], result: T.option(schemeType) }, (_h, [r]) => outgoing(r).scheme),
    '[method]outgoing-request.set-scheme': plain({ params: [T.borrow, T.option(schemeType)], result: T.result() }, (_h, [r, s]) =>
      outgoing(r).setScheme(s as Tagged | undefined),
    ),
    '[method]outgoing-request.authority': plain({ params: [T.borrow], result: T.option(T.string) }, (_h, [r]) => outgoing(r).authority),
    '[method]outgoing-request.set-authority': plain({ params: [T.borrow, T.option(T.string)], result: T.result() }, (_h, [r, a]) =>
      outgoing(r).setAuthority(a as string | undefined),
    ),
    '[method]outgoing-request.headers': plain({ params: [T.borrow], result: T.own }, (_h, [r]) => outgoing(r).fields),
    '[constructor]request-options': plain({ params: [], result: T.own }, () => new RequestOptions()),
    '[method]request-options.connect-timeout': plain({ params: [T.borrow], result: duration }, (_h, [o]) => options(o).connectTimeout),
    '[method]request-options.set-connect-timeout': setDuration('connectTimeout'),
    '[method]request-options.first-byte-timeout': plain({ params: [T.borrow], result: duration }, (_h, [o]) => options(o).firstByteTimeout),
    '[method]request-options.set-first-byte-timeout': setDuration('firstByteTimeout'),
    '[method]request-options.between-bytes-timeout': plain({ params: [T.borrow], result: duration }, (_h, [o]) => options(o).betweenBytesTimeout),
    '[method]request-options.set-between-bytes-timeout': setDuration('betweenBytesTimeout'),
    '[method]future-incoming-response.subscribe': plain({ params: [T.borrow], result: T.own }, (_h, [f]) => as(FutureIncomingResponse, f).subscribe()),
    '[method]future-incoming-response.get': plain({ params: [T.borrow], result: T.option(T.result(T.result(T.own, errorCode))) }, (_h, [f]) =>
      as(FutureIncomingResponse, f).get(),
    ),
    '[method]incoming-response.status': plain({ params: [T.borrow], result: T.u16 }, (_h, [r]) => as(IncomingResponse, r).status),
    '[method]incoming-response.headers': plain({ params: [T.borrow], result: T.own }, (_h, [r]) => as(IncomingResponse, r).headers()),
    '[method]incoming-response.consume': plain({ params: [T.borrow], result: T.result(T.own) }, (_h, [r]) => as(IncomingResponse, r).consume()),
  },
  'wasi:http/outgoing-handler': {
    // The options' timeouts are not applied: the call's own deadline bounds every request.
    handle: plain({ params: [T.own, T.option(T.own)], result: T.result(T.own, errorCode) }, (host, [r, o]) => {
      if (o !== undefined) options(o);
      return ok(handle(host, outgoing(r)));
    }),
  },
};
