// The response of one wasi:http call as the guest produces it, for both engines: checked against
// its content-length as it comes, and either collected into one response or streamed (head, then
// body chunks) to whoever relays it to the client.

import type { GuestEvent, GuestResponse } from '../protocol.js';
import { withoutContent } from '../response-fields.js';
import { HeldBody } from './held-body.js';
import type { BodyTarget } from './outgoing-request.js';

/**
 * Where the guest's response goes: its head, then its body as any body's target takes it (`fail`:
 * the response cannot be completed: set to an error, body dropped unfinished, …), with the flow
 * control a client's pace sets (see CallResponse).
 */
export interface ResponseSink extends BodyTarget {
  head(status: number, headers: [string, string][]): void;
  permit(): number;
  closed(): boolean;
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
 * Bytes of a streamed body the guest may have written ahead of what its client has taken: a
 * guest writing faster than its client reads is made to wait (check-write grants no more, its
 * output stream's pollable is ready again once the client has caught up), so a slow client costs
 * the node at most this much of a body, not a growing queue.
 */
export const FLOW_WINDOW_BYTES = 1024 * 1024;

/**
 * The response of one call as the guest produces it. A guest that finishes without waiting has
 * its response sent whole with the call's end: one message, no stream. With `stream`, a guest
 * that waits (a timer, an outgoing request) or writes much starts streaming: its head and the
 * body so far are posted at once (to the main thread, from a worker), and every later chunk as
 * it comes. Each posted chunk is answered once its client has taken it (`taken`): a streaming
 * guest may be FLOW_WINDOW_BYTES ahead of its client, no more (`permit`).
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
  /** Bytes posted as chunks, and those of them the client has taken. */
  #posted = 0;
  #taken = 0;
  #onTaken: (() => void)[] = [];
  #clientGone = false;

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
    if (this.#streaming) return this.#post(bytes);
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
    for (const bytes of this.#held.take()) this.#post(bytes);
  }

  #post(bytes: Uint8Array): void {
    this.#posted += bytes.byteLength;
    this.post({ kind: 'chunk', bytes }, [bytes.buffer as ArrayBuffer]);
  }

  /** The client has taken `bytes` more of the posted body (the answer to a chunk); `closed`: it has gone. */
  taken(bytes: number, closed = false): void {
    this.#taken += bytes;
    if (closed) this.#clientGone = true;
    for (const wake of this.#onTaken.splice(0)) wake();
  }

  /**
   * Bytes the guest may write now. A response its caller takes whole is bounded by the held
   * body's limit instead (it fails past it); one that streams, or will once it has a head and
   * STREAM_AFTER_BYTES, by what its client has not taken yet.
   */
  permit(): number {
    if (!this.stream || this.#failure || this.#ended || this.#clientGone) return Infinity;
    return Math.max(0, FLOW_WINDOW_BYTES - (this.#posted - this.#taken) - this.#held.bytes);
  }

  closed(): boolean {
    return this.#clientGone;
  }

  /** Resolves once the guest may write again (at once when it may now). */
  whenPermitted(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (this.permit() > 0 ? resolve() : this.#onTaken.push(check));
      check();
    });
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
    // Its writes failed once the client had gone: however it ended its body, nobody reads it.
    if (this.#clientGone) return undefined;
    if (this.#failure) return this.#failure;
    if (!this.#ended) return 'the component returned before finishing the response body';
    return undefined;
  }

  /** The whole response, or, once it streams, its head with an empty body. */
  response(): GuestResponse {
    return { status: this.#status, headers: this.#headers, body: this.#streaming ? new Uint8Array(0) : this.#held.joined() };
  }
}
