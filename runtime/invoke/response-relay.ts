// Passes a wasi:http guest's streamed response on to the client, or holds it. A call that has
// uncommitted key-value writes by the time its response head comes is held whole until its
// writes are committed, as every Enoki response is: a client that reads the status and sends its
// next request at once must see those writes. A call without writes by then streams, and writes
// it makes later are committed before its body ends. A held body is bounded by the function's
// memory limit (exec/wasi-http/held-body.ts): past it the call fails.

import type { GuestEvent, GuestResponse } from '../exec/protocol.js';
import { HeldBody } from '../exec/wasi-http/held-body.js';
import type { ResponseStream } from './invoker.js';

type Head = Extract<GuestEvent, { kind: 'head' }>;

export class ResponseRelay {
  #held?: { head: Head; body: HeldBody };
  #overflow?: string;
  #passing = false;

  constructor(
    private readonly stream: ResponseStream | undefined,
    private readonly hasWrites: () => boolean,
    private readonly version: string,
    private readonly limitBytes: number,
  ) {}

  head(head: Head): void {
    if (!this.stream) return;
    if (this.hasWrites()) {
      this.#held = { head, body: new HeldBody(this.limitBytes, 'while its key-value writes waited to be committed with the response') };
      return;
    }
    this.#passing = true;
    this.stream.head({ status: head.status, headers: head.headers, cold: head.cold, version: this.version });
  }

  /**
   * Passes `bytes` on or holds them; `taken` is called when the client has taken them, at once
   * when they are held or dropped (a held body is bounded by its limit, not by its client). A
   * held body past its limit throws HeldBodyOverflow (the engine stops the guest) and from then
   * on every chunk is dropped; `overflow` says why.
   */
  chunk(bytes: Uint8Array, taken: (closed?: boolean) => void): void {
    if (this.#passing && this.#overflow === undefined) return this.stream!.chunk(bytes, taken);
    taken();
    if (this.#overflow !== undefined || !this.#held) return;
    try {
      this.#held.body.push(bytes);
    } catch (err) {
      this.#overflow = (err as Error).message;
      throw err;
    }
  }

  /** Why the held body was given up; undefined while it is within its limit. */
  get overflow(): string | undefined {
    return this.#overflow;
  }

  /** Whether the response went to the client as it was produced. */
  get streamed(): boolean {
    return this.#passing;
  }

  /** The held response, whole; undefined when nothing was held. */
  held(): GuestResponse | undefined {
    if (!this.#held) return undefined;
    return { status: this.#held.head.status, headers: this.#held.head.headers, body: this.#held.body.joined() };
  }
}
