// The outgoing half of wasi:http for guests on a worker thread: requests the guest builds
// (wasi:http/types outgoing-request, request-options), wasi:http/outgoing-handler, and the answers
// (future-incoming-response, incoming-response). A request goes to the main thread once its body,
// if the guest took one, is finished; its answer arrives whole on the events channel.

import { Fields } from '../../wasi-http/fields.js';
import { RequestHead, requestTimeouts, sendOutgoing, type Tagged } from '../../wasi-http/outgoing-request.js';
import type { BodyTarget, HttpCallHost, OutgoingHttpResult, RequestTimeouts } from './http-types.js';
import type { SyncIo } from './sync-io.js';

const symbolDispose = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');

/** What the outgoing half needs of the body classes of http-types.ts. */
interface BodyClasses {
  IncomingBody: new (bytes: Uint8Array) => object;
  OutgoingBody: new (limit: number, heldLimit: number) => { attach(target: BodyTarget): void };
}

export function createOutgoingHttp({ sync, call, IncomingBody, OutgoingBody }: { sync: SyncIo; call: () => HttpCallHost } & BodyClasses) {
  type OutgoingBody = InstanceType<typeof OutgoingBody>;

  class RequestOptions {
    #connect?: bigint;
    #firstByte?: bigint;
    #betweenBytes?: bigint;
    connectTimeout(): bigint | undefined {
      return this.#connect;
    }
    setConnectTimeout(d: bigint | undefined): void {
      this.#connect = d;
    }
    firstByteTimeout(): bigint | undefined {
      return this.#firstByte;
    }
    setFirstByteTimeout(d: bigint | undefined): void {
      this.#firstByte = d;
    }
    betweenBytesTimeout(): bigint | undefined {
      return this.#betweenBytes;
    }
    setBetweenBytesTimeout(d: bigint | undefined): void {
      this.#betweenBytes = d;
    }
  }

  class OutgoingRequest {
    readonly head = new RequestHead();
    #body?: OutgoingBody;
    constructor(private readonly fields: Fields) {
      Fields.lock(fields);
    }
    body(): OutgoingBody {
      if (this.#body) throw undefined;
      this.#body = new OutgoingBody(call().maxBodyBytes, Infinity);
      return this.#body;
    }
    method() {
      return this.head.method;
    }
    setMethod(method: Tagged): void {
      if (!this.head.setMethod(method)) throw undefined;
    }
    pathWithQuery() {
      return this.head.pathWithQuery;
    }
    setPathWithQuery(value: string | undefined): void {
      if (!this.head.setPathWithQuery(value)) throw undefined;
    }
    scheme() {
      return this.head.scheme;
    }
    setScheme(value: Tagged | undefined): void {
      if (!this.head.setScheme(value)) throw undefined;
    }
    authority() {
      return this.head.authority;
    }
    setAuthority(value: string | undefined): void {
      if (!this.head.setAuthority(value)) throw undefined;
    }
    headers(): Fields {
      return this.fields;
    }
    /** Sends the request through the main thread, once its body (if the guest took one) is finished. */
    send(settle: (result: OutgoingHttpResult) => void, timeouts?: RequestTimeouts): void {
      sendOutgoing(this.head.request(this.fields.pairs(), timeouts), this.#body, (request, done) => call().fetch(request, done), settle);
    }
    [symbolDispose](): void {}
  }

  class IncomingResponse {
    #consumed = false;
    constructor(private readonly result: Extract<OutgoingHttpResult, { ok: true }>) {}
    status(): number {
      return this.result.status;
    }
    headers(): Fields {
      return Fields.received(this.result.headers);
    }
    consume(): object {
      if (this.#consumed) throw undefined;
      this.#consumed = true;
      return new IncomingBody(this.result.body);
    }
    [symbolDispose](): void {}
  }

  class FutureIncomingResponse {
    #result?: OutgoingHttpResult;
    #taken = false;

    settle(result: OutgoingHttpResult): void {
      this.#result ??= result;
    }
    subscribe(): unknown {
      return sync.pollable(() => this.#result !== undefined, { waitsOnHost: true });
    }
    get(): unknown {
      if (this.#result === undefined) return undefined;
      if (this.#taken) return { tag: 'err', val: undefined };
      this.#taken = true;
      const result = this.#result;
      return { tag: 'ok', val: result.ok ? { tag: 'ok', val: new IncomingResponse(result) } : { tag: 'err', val: result.error } };
    }
    [symbolDispose](): void {}
  }

  function handle(request: OutgoingRequest, options?: RequestOptions): FutureIncomingResponse {
    const future = new FutureIncomingResponse();
    const timeouts = options && requestTimeouts({ connect: options.connectTimeout(), firstByte: options.firstByteTimeout(), betweenBytes: options.betweenBytesTimeout() });
    request.send((result) => future.settle(result), timeouts);
    return future;
  }

  return {
    RequestOptions,
    OutgoingRequest,
    IncomingResponse,
    FutureIncomingResponse,
    outgoingHandler: { handle },
  };
}
