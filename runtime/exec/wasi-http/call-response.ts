// The response of one wasi:http call as the guest produces it, for both engines: checked against
// its content-length as it comes, and either collected into one response or streamed (head, then
// body chunks) to whoever relays it to the client.

import type { GuestEvent, GuestResponse } from '../protocol.js';
import { withoutContent } from '../response-fields.js';
import { HeldBody } from './held-body.js';

/** Where the guest's response goes. */
export interface ResponseSink {
  head(status: number, headers: [string, string][]): void;
  chunk(bytes: Uint8Array): void;
  end(): void;
  /** The response cannot be completed: set to an error, body dropped unfinished, … */
  fail(reason: string): void;
}

/** A content-length the guest set, parsed; undefined when absent, NaN when malformed. */
function declaredLength(headers: [string, string][]): number | undefined {
  const values = headers.filter(([name]) => name === 'content-length').map(([, v]) => v.trim());
  if (values.length === 0) return undefined;
  return values.every((v) => v === values[0] && /^\d+$/.test(v)) ? Number(values[0]) : NaN;
}

/** Bytes a streaming call collects before it starts sending. */
const STREAM_AFTER_BYTES = 64 * 1024;

/**
 * The response of one call as the guest produces it. A guest that finishes without waiting has
 * its response sent whole with the call's end: one message, no stream. With `stream`, a guest
 * that waits (a timer, an outgoing request) or writes much starts streaming: its head and the
 * body so far are posted at once (to the main thread, from a worker), and every later chunk as
 * it comes.
 */
export class CallResponse implements ResponseSink {
  #status = 0;
  #headers: [string, string][] = [];
  #hasHead = false;
  readonly #held: HeldBody;
  #streaming = false;
  #declared?: number;
  #sent = 0;
  #ended = false;
  #failure?: string;

  constructor(
    private readonly stream: boolean,
    private readonly post: (event: GuestEvent, transfer?: ArrayBuffer[]) => void,
    private readonly cold: boolean,
    /** The most of the body held at once (see held-body.ts): the function's memory limit. */
    limitBytes: number,
    /** The request's method: a response to HEAD has no content to match its content-length. */
    private readonly method?: string,
  ) {
    this.#held = new HeldBody(limitBytes, stream ? 'before it could be streamed' : 'for a caller that takes the response whole');
  }

  head(status: number, headers: [string, string][]): void {
    this.#status = status;
    this.#headers = headers;
    this.#hasHead = true;
    const declared = declaredLength(headers);
    if (Number.isNaN(declared)) this.fail('the response has a malformed content-length');
    this.#declared = withoutContent(status, this.method) ? undefined : declared;
  }

  chunk(bytes: Uint8Array): void {
    if (this.#failure || this.#ended) return;
    this.#sent += bytes.byteLength;
    if (this.#declared !== undefined && this.#sent > this.#declared) {
      return this.fail(`the body is longer than its content-length of ${this.#declared} bytes`);
    }
    if (this.#streaming) return this.post({ kind: 'chunk', bytes }, [bytes.buffer as ArrayBuffer]);
    try {
      this.#held.push(bytes);
    } catch (err) {
      this.fail((err as Error).message);
      throw err;
    }
    if (this.#held.bytes > STREAM_AFTER_BYTES) this.startStreaming();
  }

  /** Sends the head and the body so far, and every chunk from now on (with `stream` only). */
  startStreaming(): void {
    if (!this.stream || this.#streaming || !this.#hasHead || this.#failure) return;
    this.#streaming = true;
    this.post({ kind: 'head', status: this.#status, headers: this.#headers, cold: this.cold });
    for (const bytes of this.#held.take()) this.post({ kind: 'chunk', bytes }, [bytes.buffer as ArrayBuffer]);
  }

  end(): void {
    if (this.#failure) return;
    if (this.#declared !== undefined && this.#sent !== this.#declared) {
      return this.fail(`the body has ${this.#sent} bytes, its content-length says ${this.#declared}`);
    }
    this.#ended = true;
  }

  fail(reason: string): void {
    this.#failure ??= reason;
  }

  /** Why the response is not a valid one; undefined when it is complete. */
  problem(outparamSet: boolean): string | undefined {
    if (!outparamSet) return 'the component returned without setting a response';
    if (this.#failure) return this.#failure;
    if (!this.#ended) return 'the component returned before finishing the response body';
    return undefined;
  }

  /** The whole response, or, once it streams, its head with an empty body. */
  response(): GuestResponse {
    return { status: this.#status, headers: this.#headers, body: this.#streaming ? new Uint8Array(0) : this.#held.joined() };
  }
}
