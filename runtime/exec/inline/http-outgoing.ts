// The outgoing half of wasi:http 0.2.x for guests on the event loop: requests the guest builds
// (outgoing-request, request-options), wasi:http/outgoing-handler, and their answers
// (future-incoming-response, incoming-response). The invoker makes the request (allow-list, body
// limits, the call's deadline: invoke/outgoing-http.ts), as for a guest on a worker; the guest
// waits for the answer through its pollable, suspended by JSPI, so the event loop serves others
// meanwhile. A request is sent once its body, if the guest took one, is finished.

import type { OutgoingHttpResult, RequestTimeouts } from '../protocol.js';
import { RequestHead, requestTimeouts, sendOutgoing, type Tagged } from '../wasi-http/outgoing-request.js';
import { Fields } from '../wasi-http/fields.js';
import { as, err, ok, plain, type Binding, type GuestHost } from './binding.js';
import { T } from './canon.js';
import { errorCode, fields, IncomingBody, method as methodType, OutgoingBody, scheme as schemeType } from './http-world.js';
import { SettledPollable } from './streams.js';

class RequestOptions {
  connectTimeout?: bigint;
  firstByteTimeout?: bigint;
  betweenBytesTimeout?: bigint;

  timeouts(): RequestTimeouts | undefined {
    return requestTimeouts({ connect: this.connectTimeout, firstByte: this.firstByteTimeout, betweenBytes: this.betweenBytesTimeout });
  }
}

class OutgoingRequest {
  readonly head = new RequestHead();
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

  /** Has the host make the request, once its body (if the guest took one) is finished. */
  send(host: GuestHost, settle: (result: OutgoingHttpResult) => void, timeouts?: RequestTimeouts): void {
    const refuse: NonNullable<GuestHost['fetch']> = (_request, done) => done({ ok: false, error: { tag: 'HTTP-request-denied' } });
    sendOutgoing(this.head.request(this.fields.pairs(), timeouts), this.#body, host.fetch ?? refuse, settle);
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

function handle(host: GuestHost, request: OutgoingRequest, timeouts: RequestTimeouts | undefined): FutureIncomingResponse {
  const future = new FutureIncomingResponse();
  request.send(host, (result) => future.settle(result), timeouts);
  return future;
}

const outgoing = (v: unknown) => as(OutgoingRequest, v);
/** A setter's result<_, _>: refused without a reason. */
const done = (accepted: boolean) => (accepted ? ok() : err());
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
    '[method]outgoing-request.method': plain({ params: [T.borrow], result: methodType }, (_h, [r]) => outgoing(r).head.method),
    '[method]outgoing-request.set-method': plain({ params: [T.borrow, methodType], result: T.result() }, (_h, [r, m]) => done(outgoing(r).head.setMethod(m as Tagged))),
    '[method]outgoing-request.path-with-query': plain({ params: [T.borrow], result: T.option(T.string) }, (_h, [r]) => outgoing(r).head.pathWithQuery),
    '[method]outgoing-request.set-path-with-query': plain({ params: [T.borrow, T.option(T.string)], result: T.result() }, (_h, [r, p]) =>
      done(outgoing(r).head.setPathWithQuery(p as string | undefined)),
    ),
    '[method]outgoing-request.scheme': plain({ params: [T.borrow], result: T.option(schemeType) }, (_h, [r]) => outgoing(r).head.scheme),
    '[method]outgoing-request.set-scheme': plain({ params: [T.borrow, T.option(schemeType)], result: T.result() }, (_h, [r, s]) =>
      done(outgoing(r).head.setScheme(s as Tagged | undefined)),
    ),
    '[method]outgoing-request.authority': plain({ params: [T.borrow], result: T.option(T.string) }, (_h, [r]) => outgoing(r).head.authority),
    '[method]outgoing-request.set-authority': plain({ params: [T.borrow, T.option(T.string)], result: T.result() }, (_h, [r, a]) =>
      done(outgoing(r).head.setAuthority(a as string | undefined)),
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
    // The options' timeouts bound the phases of the exchange; the call's deadline bounds it all.
    handle: plain({ params: [T.own, T.option(T.own)], result: T.result(T.own, errorCode) }, (host, [r, o]) =>
      ok(handle(host, outgoing(r), o === undefined ? undefined : options(o).timeouts())),
    ),
  },
};
