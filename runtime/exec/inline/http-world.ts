// wasi:http 0.2.x as this host binds it for guests on the event loop: the incoming request (the
// node's, body already read within the node's limit), the response the guest builds, and the
// handler export that receives both. The response goes to a CallResponse (wasi-http/
// call-response.ts) as the guest produces it, so it is checked, and streamed or collected, exactly
// as on a worker. Outgoing requests (wasi:http/outgoing-handler) are bound in http-outgoing.ts;
// what one call exchanges with the node (its request, response, outgoing requests) is in
// http-exchange.ts.

import { httpHandlerExport } from '../../functions/worlds.js';
import type { GuestRequest } from '../protocol.js';
import type { ResponseSink } from '../wasi-http/call-response.js';
import { HeldBody } from '../wasi-http/held-body.js';
import type { BodyTarget } from '../wasi-http/outgoing-request.js';
import { describeError, type ErrorCode } from '../wasi-http/error-code.js';
import { Fields } from '../wasi-http/fields.js';
import { requestAuthority, requestMethod, requestPathWithQuery, requestScheme } from '../wasi-http/request-line.js';
import { as, err, ok, plain, type Binding } from './binding.js';
import { T, type ValType } from './canon.js';
import type { FuncType } from './canon-calls.js';
import { BytesInput, CLOSED, IoError, OutputStream, Pollable, type StreamError } from './streams.js';

const none = (name: string): [string, ValType | undefined] => [name, undefined];
export const method = T.variant([...['get', 'head', 'post', 'put', 'delete', 'connect', 'options', 'trace', 'patch'].map(none), ['other', T.string]]);
export const scheme = T.variant([none('HTTP'), none('HTTPS'), ['other', T.string]]);
// Record fields are named as the host's error codes name them (outgoing-http.ts, as jco does).
const fieldSize = T.record([['fieldName', T.option(T.string)], ['fieldSize', T.option(T.u32)]]);
export const errorCode = T.variant([
  none('DNS-timeout'),
  ['DNS-error', T.record([['rcode', T.option(T.string)], ['infoCode', T.option(T.u16)]])],
  ...['destination-not-found', 'destination-unavailable', 'destination-IP-prohibited', 'destination-IP-unroutable'].map(none),
  ...['connection-refused', 'connection-terminated', 'connection-timeout', 'connection-read-timeout', 'connection-write-timeout'].map(none),
  ...['connection-limit-reached', 'TLS-protocol-error', 'TLS-certificate-error'].map(none),
  ['TLS-alert-received', T.record([['alertId', T.option(T.u8)], ['alertMessage', T.option(T.string)]])],
  ...['HTTP-request-denied', 'HTTP-request-length-required'].map(none),
  ['HTTP-request-body-size', T.option(T.u64)],
  ...['HTTP-request-method-invalid', 'HTTP-request-URI-invalid', 'HTTP-request-URI-too-long'].map(none),
  ['HTTP-request-header-section-size', T.option(T.u32)],
  ['HTTP-request-header-size', T.option(fieldSize)],
  ['HTTP-request-trailer-section-size', T.option(T.u32)],
  ['HTTP-request-trailer-size', fieldSize],
  none('HTTP-response-incomplete'),
  ['HTTP-response-header-section-size', T.option(T.u32)],
  ['HTTP-response-header-size', fieldSize],
  ['HTTP-response-body-size', T.option(T.u64)],
  ['HTTP-response-trailer-section-size', T.option(T.u32)],
  ['HTTP-response-trailer-size', fieldSize],
  ['HTTP-response-transfer-coding', T.option(T.string)],
  ['HTTP-response-content-coding', T.option(T.string)],
  ...['HTTP-response-timeout', 'HTTP-upgrade-failed', 'HTTP-protocol-error', 'loop-detected', 'configuration-error'].map(none),
  ['internal-error', T.option(T.string)],
]);
const headerError = T.variant(['invalid-syntax', 'forbidden', 'immutable'].map(none));
const fieldList = T.list(T.tuple(T.string, T.list(T.u8)));

/** The handler export: `handle(request: incoming-request, response-out: response-outparam)`. */
export const HTTP_HANDLE_TYPE: FuncType = { params: [T.own, T.own] };

/** Whether a core export is a 0.2.x incoming-handler's `handle`, as wit-component names it. */
export function isHttpHandleExport(name: string): boolean {
  const parts = name.split('#');
  return parts.length === 2 && parts[1] === 'handle' && httpHandlerExport([parts[0]]) !== undefined;
}

/** Runs a Fields operation, answering its header-error (thrown as { payload }) as a result. */
function fieldsResult(run: () => unknown) {
  try {
    return ok(run());
  } catch (e) {
    const payload = (e as { payload?: { tag: string } } | undefined)?.payload;
    if (!payload) throw e;
    return err(payload);
  }
}

export class IncomingRequest {
  readonly #fields: Fields;
  #consumed = false;

  constructor(private readonly request: GuestRequest) {
    this.#fields = Fields.received(request.headers);
  }

  method(): { tag: string; val?: string } {
    return requestMethod(this.request);
  }

  pathWithQuery(): string {
    return requestPathWithQuery(this.request);
  }

  scheme(): { tag: 'HTTP' | 'HTTPS' } {
    return requestScheme(this.request);
  }

  authority(): string | undefined {
    return requestAuthority(this.request);
  }

  headers(): Fields {
    return this.#fields;
  }

  consume() {
    if (this.#consumed) return err();
    this.#consumed = true;
    return ok(new IncomingBody(this.request.body));
  }
}

export class IncomingBody {
  #taken = false;

  constructor(private readonly bytes: Uint8Array) {}

  stream() {
    if (this.#taken) return err();
    this.#taken = true;
    return ok(new BytesInput(this.bytes));
  }
}

/** No trailers ever arrive: the node reads and sends bodies without them. */
class FutureTrailers {
  #taken = false;

  get() {
    if (this.#taken) return err();
    this.#taken = true;
    return ok(ok(undefined));
  }
}

class OutgoingResponse {
  status = 200;
  body?: OutgoingBody;

  constructor(readonly fields: Fields) {
    Fields.lock(fields);
  }
}

/**
 * A body's bytes, held until it has a target (at most `heldLimitBytes`: past it the guest
 * traps), then passed on as they come. Past `limitBytes` in all (an outgoing request's bound)
 * a write is refused with a stream error instead.
 */
export class OutgoingBody {
  readonly #held: HeldBody;
  #target?: BodyTarget;
  #stream = false;
  finished = false;
  #failure?: string;
  #written = 0;

  constructor(
    heldLimitBytes: number,
    private readonly limitBytes = Infinity,
  ) {
    this.#held = new HeldBody(heldLimitBytes, 'before it set the response');
  }

  write() {
    if (this.#stream) return err();
    this.#stream = true;
    return ok(new BodyOutput(this));
  }

  /** Passes the bytes on or holds them; a body held past its limit fails and traps the guest. */
  push(bytes: Uint8Array): StreamError | undefined {
    if (this.finished || this.#failure || this.#target?.closed?.()) return CLOSED;
    this.#written += bytes.byteLength;
    if (this.#written > this.limitBytes) {
      const reason = `the body is larger than ${this.limitBytes} bytes`;
      this.#fail(reason);
      return { tag: 'last-operation-failed', val: new IoError(reason) };
    }
    const copy = new Uint8Array(bytes);
    if (this.#target) {
      this.#target.chunk(copy);
      return undefined;
    }
    try {
      this.#held.push(copy);
    } catch (err) {
      this.#fail((err as Error).message);
      throw err;
    }
    return undefined;
  }

  finish(trailers: Fields | undefined) {
    if (this.finished) return err({ tag: 'internal-error', val: 'the body is already finished' });
    if (trailers && trailers.entries().length > 0) {
      this.#fail('trailers are not supported');
      return err({ tag: 'internal-error', val: 'trailers are not supported by this host' });
    }
    this.finished = true;
    this.#target?.end();
    return ok();
  }

  /** Bytes the guest may write now: any while they are held, then what the target takes. */
  permit(): number {
    return this.finished || this.#failure ? Infinity : (this.#target?.permit?.() ?? Infinity);
  }

  /** Resolves once permit() is above 0. */
  whenPermitted(): Promise<void> {
    return (this.permit() > 0 ? undefined : this.#target?.whenPermitted?.()) ?? Promise.resolve();
  }

  /** Sends the held bytes, and from now on every write, to `target`. */
  attach(target: BodyTarget): void {
    this.#target = target;
    for (const chunk of this.#held.take()) target.chunk(chunk);
    if (this.#failure) target.fail(this.#failure);
    else if (this.finished) target.end();
  }

  /** The guest dropped its handle. */
  drop(): void {
    if (!this.finished) this.#fail('the body was dropped before it was finished');
  }

  #fail(reason: string): void {
    if (this.#failure) return;
    this.#failure = reason;
    this.#target?.fail(reason);
  }
}

class BodyOutput extends OutputStream {
  constructor(private readonly body: OutgoingBody) {
    super();
  }

  write(_host: unknown, bytes: Uint8Array): StreamError | undefined {
    return this.body.push(bytes);
  }

  override permit(): number {
    return this.body.permit();
  }

  override whenPermitted(): Promise<void> {
    return this.body.whenPermitted();
  }
}

export class ResponseOutparam {
  #set = false;

  constructor(private readonly sink: ResponseSink) {}

  set(response: { tag: 'ok'; val: unknown } | { tag: 'err'; val: ErrorCode }): void {
    if (this.#set) throw new Error('response-outparam.set called twice');
    this.#set = true;
    if (response.tag === 'err') return this.sink.fail(`the component answered with error ${describeError(response.val)}`);
    const outgoing = as(OutgoingResponse, response.val);
    this.sink.head(outgoing.status, outgoing.fields.pairs());
    if (!outgoing.body) return this.sink.end();
    outgoing.body.attach(this.sink);
  }

  isSet(): boolean {
    return this.#set;
  }
}

export const fields = (v: unknown) => as(Fields, v);
const request = (v: unknown) => as(IncomingRequest, v);
const response = (v: unknown) => as(OutgoingResponse, v);

export const HTTP_BINDINGS: Record<string, Record<string, Binding>> = {
  'wasi:http/types': {
    '[constructor]fields': plain({ params: [], result: T.own }, () => new Fields()),
    '[static]fields.from-list': plain({ params: [fieldList], result: T.result(T.own, headerError) }, (_h, [list]) =>
      fieldsResult(() => Fields.fromList(list as [string, Uint8Array][])),
    ),
    '[method]fields.get': plain({ params: [T.borrow, T.string], result: T.list(T.list(T.u8)) }, (_h, [f, name]) => fields(f).get(name as string)),
    '[method]fields.has': plain({ params: [T.borrow, T.string], result: T.bool }, (_h, [f, name]) => fields(f).has(name as string)),
    '[method]fields.set': plain({ params: [T.borrow, T.string, T.list(T.list(T.u8))], result: T.result(undefined, headerError) }, (_h, [f, name, values]) =>
      fieldsResult(() => fields(f).set(name as string, values as Uint8Array[])),
    ),
    '[method]fields.delete': plain({ params: [T.borrow, T.string], result: T.result(undefined, headerError) }, (_h, [f, name]) =>
      fieldsResult(() => fields(f).delete(name as string)),
    ),
    '[method]fields.append': plain({ params: [T.borrow, T.string, T.list(T.u8)], result: T.result(undefined, headerError) }, (_h, [f, name, value]) =>
      fieldsResult(() => fields(f).append(name as string, value as Uint8Array)),
    ),
    '[method]fields.entries': plain({ params: [T.borrow], result: fieldList }, (_h, [f]) => fields(f).entries()),
    '[method]fields.clone': plain({ params: [T.borrow], result: T.own }, (_h, [f]) => fields(f).clone()),
    '[method]incoming-request.method': plain({ params: [T.borrow], result: method }, (_h, [r]) => request(r).method()),
    '[method]incoming-request.path-with-query': plain({ params: [T.borrow], result: T.option(T.string) }, (_h, [r]) => request(r).pathWithQuery()),
    '[method]incoming-request.scheme': plain({ params: [T.borrow], result: T.option(scheme) }, (_h, [r]) => request(r).scheme()),
    '[method]incoming-request.authority': plain({ params: [T.borrow], result: T.option(T.string) }, (_h, [r]) => request(r).authority()),
    '[method]incoming-request.headers': plain({ params: [T.borrow], result: T.own }, (_h, [r]) => request(r).headers()),
    '[method]incoming-request.consume': plain({ params: [T.borrow], result: T.result(T.own) }, (_h, [r]) => request(r).consume()),
    '[method]incoming-body.stream': plain({ params: [T.borrow], result: T.result(T.own) }, (_h, [b]) => as(IncomingBody, b).stream()),
    '[static]incoming-body.finish': plain({ params: [T.own], result: T.own }, (_h, [b]) => (as(IncomingBody, b), new FutureTrailers())),
    '[method]future-trailers.subscribe': plain({ params: [T.borrow], result: T.own }, (_h, [t]) => (as(FutureTrailers, t), new Pollable())),
    '[method]future-trailers.get': plain({ params: [T.borrow], result: T.option(T.result(T.result(T.option(T.own), errorCode))) }, (_h, [t]) =>
      as(FutureTrailers, t).get(),
    ),
    '[constructor]outgoing-response': plain({ params: [T.own], result: T.own }, (_h, [f]) => new OutgoingResponse(fields(f))),
    '[method]outgoing-response.status-code': plain({ params: [T.borrow], result: T.u16 }, (_h, [r]) => response(r).status),
    '[method]outgoing-response.set-status-code': plain({ params: [T.borrow, T.u16], result: T.result() }, (_h, [r, status]) => {
      const s = status as number;
      // 1xx are interim responses, not a response a handler can answer with.
      if (s < 200 || s > 599) return err();
      response(r).status = s;
      return ok();
    }),
    '[method]outgoing-response.headers': plain({ params: [T.borrow], result: T.own }, (_h, [r]) => response(r).fields),
    '[method]outgoing-response.body': plain({ params: [T.borrow], result: T.result(T.own) }, (host, [r]) => {
      const res = response(r);
      if (res.body) return err();
      res.body = new OutgoingBody(host.memoryLimitBytes);
      return ok(res.body);
    }),
    '[method]outgoing-body.write': plain({ params: [T.borrow], result: T.result(T.own) }, (_h, [b]) => as(OutgoingBody, b).write()),
    '[static]outgoing-body.finish': plain({ params: [T.own, T.option(T.own)], result: T.result(undefined, errorCode) }, (_h, [b, trailers]) =>
      as(OutgoingBody, b).finish(trailers === undefined ? undefined : fields(trailers)),
    ),
    '[static]response-outparam.set': plain({ params: [T.own, T.result(T.own, errorCode)] }, (_h, [param, result]) =>
      as(ResponseOutparam, param).set(result as { tag: 'ok'; val: unknown }),
    ),
    // Errors of this host's streams carry no HTTP error code.
    'http-error-code': plain({ params: [T.borrow], result: T.option(errorCode) }, (_h, [e]) => (as(IoError, e), undefined)),
  },
};
