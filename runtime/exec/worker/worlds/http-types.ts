// wasi:http/types and wasi:http/outgoing-handler for guests on a worker thread, synchronous from
// the guest's side. The incoming request is the node's (body already read, bounded by the node's
// body limit); the response the guest sets goes to a ResponseSink as it is produced, so its body
// streams to the client; outgoing requests (http-outgoing.ts) are handed to the main thread,
// which checks the function's allow-list and answers on the events channel (see sync-io.ts).

import type { GuestRequest } from '../../protocol.js';
import { Fields } from '../../wasi-http/fields.js';
import { requestAuthority, requestMethod, requestPathWithQuery, requestScheme } from '../../wasi-http/request-line.js';
import { createOutgoingHttp } from './http-outgoing.js';
import type { ResponseSink } from '../../wasi-http/call-response.js';
import type { ShimIo, SyncIo } from './sync-io.js';
import { describeError, type ErrorCode } from '../../wasi-http/error-code.js';
import { HeldBody } from '../../wasi-http/held-body.js';
import type { BodyTarget } from '../../wasi-http/outgoing-request.js';

export type { BodyTarget, ErrorCode };

export interface OutgoingHttpRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body?: Uint8Array;
  /** The guest's request-options: the phases of the exchange it bounds, ms. */
  timeouts?: RequestTimeouts;
}

/**
 * wasi:http request-options: connecting (TCP, and TLS for https), from connected to the response's
 * head, and the longest wait between two parts of the response body.
 */
export interface RequestTimeouts {
  connectMs?: number;
  firstByteMs?: number;
  betweenBytesMs?: number;
}

export type OutgoingHttpResult =
  | { ok: true; status: number; headers: [string, string][]; body: Uint8Array }
  | { ok: false; error: ErrorCode };

/** What the types need of the call in progress. */
export interface HttpCallHost {
  /** Starts an outgoing request; `done` is called with its answer (from HostEvents). */
  fetch(request: OutgoingHttpRequest, done: (result: OutgoingHttpResult) => void): void;
  /** Largest outgoing request body, bytes. */
  maxBodyBytes: number;
  /** The instance's memory cap: the most of a response body held until the response is set. */
  memoryLimitBytes: number;
}

/** Bytes check-write grants at once. */
const WRITE_BUDGET = 1024 * 1024;
const symbolDispose = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');

export function createHttpTypes(io: ShimIo, sync: SyncIo, call: () => HttpCallHost) {
  const ready = () => io.pollableCreate();

  /** An input stream over bytes the host already has. */
  function bytesStream(bytes: Uint8Array): unknown {
    let offset = 0;
    const read = (len: bigint) => {
      if (offset >= bytes.byteLength) throw { tag: 'closed' };
      const end = Math.min(bytes.byteLength, offset + Number(len));
      const slice = bytes.slice(offset, end);
      offset = end;
      return slice;
    };
    return io.inputStreamCreate({ read, blockingRead: read, subscribe: ready });
  }

  class IncomingBody {
    #stream?: unknown;
    #taken = false;

    constructor(private readonly bytes: Uint8Array) {}

    stream(): unknown {
      if (this.#taken) throw undefined;
      this.#taken = true;
      this.#stream = bytesStream(this.bytes);
      return this.#stream;
    }

    static finish(_body: IncomingBody): FutureTrailers {
      return new FutureTrailers();
    }

    [symbolDispose](): void {}
  }

  /** No trailers ever arrive: the node reads and sends bodies without them. */
  class FutureTrailers {
    #taken = false;
    subscribe(): unknown {
      return ready();
    }
    get(): unknown {
      if (this.#taken) return { tag: 'err', val: undefined };
      this.#taken = true;
      return { tag: 'ok', val: { tag: 'ok', val: undefined } };
    }
  }

  class IncomingRequest {
    #consumed = false;
    constructor(
      private readonly request: GuestRequest,
      private readonly fields: Fields,
    ) {}
    method(): { tag: string; val?: string } {
      return requestMethod(this.request);
    }
    pathWithQuery(): string {
      return requestPathWithQuery(this.request);
    }
    scheme(): { tag: string } {
      return requestScheme(this.request);
    }
    authority(): string | undefined {
      return requestAuthority(this.request);
    }
    headers(): Fields {
      return this.fields;
    }
    consume(): IncomingBody {
      if (this.#consumed) throw undefined;
      this.#consumed = true;
      return new IncomingBody(this.request.body);
    }
    [symbolDispose](): void {}
  }

  /**
   * A body's bytes, held until it has a target (at most `heldLimit`: past it the guest traps), then
   * passed on as they come. An outgoing request's body is refused past `limit` with a stream error.
   */
  class OutgoingBody {
    #stream?: unknown;
    readonly #held: HeldBody;
    #target?: BodyTarget;
    #finished = false;
    #failure?: string;
    #written = 0;

    constructor(
      private readonly limit: number,
      heldLimit: number,
    ) {
      this.#held = new HeldBody(heldLimit, 'before it set the response');
    }

    write(): unknown {
      if (this.#stream) throw undefined;
      // Writes wait while the target takes no more (a response body's client catching up): the
      // worker sleeps until the main thread answers that it has taken more.
      const writable = () => sync.pollable(() => this.#permit() > 0, { waitsOnHost: true });
      const waitUntilWritable = () => {
        if (this.#permit() === 0) writable().block();
      };
      const write = (bytes: Uint8Array) => {
        if (this.#finished || this.#target?.closed?.()) throw { tag: 'closed' };
        this.#written += bytes.byteLength;
        if (this.#written > this.limit) {
          this.#fail(`the body is larger than ${this.limit} bytes`);
          throw { tag: 'last-operation-failed', val: io.ioErrorCreate(`the body is larger than ${this.limit} bytes`) };
        }
        const copy = new Uint8Array(bytes);
        if (this.#target) return this.#target.chunk(copy);
        try {
          this.#held.push(copy);
        } catch (err) {
          this.#fail((err as Error).message);
          throw err;
        }
      };
      this.#stream = io.outputStreamCreate({
        checkWrite: () => {
          // What the client has taken since arrives as messages: read them before saying "none".
          if (this.#permit() === 0) sync.drain();
          return BigInt(Math.min(this.#permit(), WRITE_BUDGET));
        },
        write,
        blockingWriteAndFlush: (bytes: Uint8Array) => {
          waitUntilWritable();
          write(bytes);
        },
        blockingFlush: waitUntilWritable,
        flush: () => undefined,
        subscribe: writable,
      });
      return this.#stream;
    }

    /** Bytes the guest may write now: any while they are held, then what the target takes. */
    #permit(): number {
      return this.#finished || this.#failure ? Infinity : (this.#target?.permit?.() ?? Infinity);
    }

    static finish(body: OutgoingBody, trailers: Fields | undefined): void {
      if (body.#finished) throw { tag: 'internal-error', val: 'the body is already finished' };
      if (trailers && trailers.entries().length > 0) {
        body.#fail('trailers are not supported');
        throw { tag: 'internal-error', val: 'trailers are not supported by this host' };
      }
      body.#finished = true;
      body.#target?.end();
    }

    /** Sends the buffered bytes, and from now on every write, to `target`. */
    attach(target: BodyTarget): void {
      this.#target = target;
      for (const chunk of this.#held.take()) target.chunk(chunk);
      if (this.#failure) target.fail(this.#failure);
      else if (this.#finished) target.end();
    }

    [symbolDispose](): void {
      if (!this.#finished) this.#fail('the body was dropped before it was finished');
    }

    #fail(reason: string): void {
      if (this.#failure) return;
      this.#failure = reason;
      this.#target?.fail(reason);
    }
  }

  class OutgoingResponse {
    #status = 200;
    #body?: OutgoingBody;
    constructor(private readonly fields: Fields) {
      Fields.lock(fields);
    }
    statusCode(): number {
      return this.#status;
    }
    setStatusCode(status: number): void {
      // 1xx are interim responses, not a response a handler can answer with.
      if (!Number.isInteger(status) || status < 200 || status > 599) throw undefined;
      this.#status = status;
    }
    headers(): Fields {
      return this.fields;
    }
    body(): OutgoingBody {
      if (this.#body) throw undefined;
      this.#body = new OutgoingBody(Infinity, call().memoryLimitBytes);
      return this.#body;
    }
    /** The body the guest asked for, if it did. */
    takenBody(): OutgoingBody | undefined {
      return this.#body;
    }
    [symbolDispose](): void {}
  }

  class ResponseOutparam {
    #set = false;
    constructor(private readonly sink: ResponseSink) {}

    static set(param: ResponseOutparam, response: { tag: 'ok'; val: OutgoingResponse } | { tag: 'err'; val: ErrorCode }): void {
      if (param.#set) throw new Error('response-outparam.set called twice');
      param.#set = true;
      if (response.tag === 'err') {
        param.sink.fail(`the component answered with error ${describeError(response.val)}`);
        return;
      }
      const outgoing = response.val;
      param.sink.head(outgoing.statusCode(), outgoing.headers().pairs());
      const body = outgoing.takenBody();
      if (!body) return param.sink.end();
      body.attach(param.sink);
    }

    isSet(): boolean {
      return this.#set;
    }

    [symbolDispose](): void {}
  }

  const outgoing = createOutgoingHttp({ sync, call, IncomingBody, OutgoingBody });

  return {
    types: {
      Fields,
      IncomingRequest,
      IncomingBody,
      FutureTrailers,
      OutgoingResponse,
      OutgoingBody,
      ResponseOutparam,
      RequestOptions: outgoing.RequestOptions,
      OutgoingRequest: outgoing.OutgoingRequest,
      IncomingResponse: outgoing.IncomingResponse,
      FutureIncomingResponse: outgoing.FutureIncomingResponse,
      httpErrorCode: (err: unknown) => ({ tag: 'internal-error', val: String((err as Error)?.message ?? err) }),
    },
    outgoingHandler: outgoing.outgoingHandler,
    /** The guest's view of a request to its route. */
    incomingRequest(request: GuestRequest): IncomingRequest {
      return new IncomingRequest(request, Fields.received(request.headers));
    },
    responseOutparam(sink: ResponseSink): ResponseOutparam {
      return new ResponseOutparam(sink);
    },
  };
}

export type HttpTypes = ReturnType<typeof createHttpTypes>;
