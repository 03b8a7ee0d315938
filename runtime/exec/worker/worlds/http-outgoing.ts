// The outgoing half of wasi:http for guests on a worker thread: requests the guest builds
// (wasi:http/types outgoing-request, request-options), wasi:http/outgoing-handler, and the answers
// (future-incoming-response, incoming-response). A request goes to the main thread once its body,
// if the guest took one, is finished; its answer arrives whole on the events channel.

import { Fields } from '../../wasi-http/fields.js';
import type { BodyTarget, ErrorCode, HttpCallHost, OutgoingHttpRequest, OutgoingHttpResult } from './http-types.js';
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
    #method: { tag: string; val?: string } = { tag: 'get' };
    #scheme?: { tag: string; val?: string };
    #authority?: string;
    #pathWithQuery?: string;
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
      return this.#method;
    }
    setMethod(method: { tag: string; val?: string }): void {
      if (method.tag === 'other' && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(method.val ?? '')) throw undefined;
      this.#method = method;
    }
    pathWithQuery() {
      return this.#pathWithQuery;
    }
    setPathWithQuery(value: string | undefined): void {
      if (value !== undefined && !/^[\x21-\x7e]*$/.test(value)) throw undefined;
      this.#pathWithQuery = value;
    }
    scheme() {
      return this.#scheme;
    }
    setScheme(value: { tag: string; val?: string } | undefined): void {
      if (value?.tag === 'other' && !/^[a-zA-Z][a-zA-Z0-9+.-]*$/.test(value.val ?? '')) throw undefined;
      this.#scheme = value;
    }
    authority() {
      return this.#authority;
    }
    setAuthority(value: string | undefined): void {
      if (value !== undefined && !/^[\x21-\x7e]+$/.test(value)) throw undefined;
      this.#authority = value;
    }
    headers(): Fields {
      return this.fields;
    }
    /** The request as the main thread sends it; its body, when the guest took one, comes later. */
    describe(): { request?: OutgoingHttpRequest; error?: ErrorCode; body?: OutgoingBody } {
      const scheme = this.#scheme === undefined ? 'https' : this.#scheme.tag === 'other' ? (this.#scheme.val ?? '') : this.#scheme.tag.toLowerCase();
      if (scheme !== 'http' && scheme !== 'https') return { error: { tag: 'HTTP-protocol-error' } };
      if (!this.#authority) return { error: { tag: 'HTTP-request-URI-invalid' } };
      let url: URL;
      try {
        url = new URL(`${scheme}://${this.#authority}${this.#pathWithQuery ?? '/'}`);
      } catch {
        return { error: { tag: 'HTTP-request-URI-invalid' } };
      }
      const method = this.#method.tag === 'other' ? (this.#method.val ?? '') : this.#method.tag.toUpperCase();
      return { request: { method, url: url.href, headers: this.fields.pairs() }, body: this.#body };
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

  function handle(request: OutgoingRequest, _options?: RequestOptions): FutureIncomingResponse {
    const future = new FutureIncomingResponse();
    const described = request.describe();
    if (described.error) {
      future.settle({ ok: false, error: described.error });
      return future;
    }
    const send = (body?: Uint8Array) => call().fetch({ ...described.request!, ...(body && { body }) }, (result) => future.settle(result));
    if (!described.body) {
      send();
      return future;
    }
    // Sent once the guest finishes the body (it may write it after this call).
    const chunks: Uint8Array[] = [];
    described.body.attach({
      chunk: (bytes) => chunks.push(bytes),
      end: () => send(Buffer.concat(chunks)),
      fail: (reason) => future.settle({ ok: false, error: { tag: 'internal-error', val: `the request body failed: ${reason}` } }),
    });
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
