// Passes a wasi:http guest's streamed response on to the client, or holds it. A call that has
// uncommitted key-value writes by the time its response head comes is held whole until its
// writes are committed, as every Enoki response is: a client that reads the status and sends its
// next request at once must see those writes. A call without writes by then streams, and writes
// it makes later are committed before its body ends.

import type { GuestEvent, GuestResponse } from '../exec/protocol.js';
import type { ResponseStream } from './invoker.js';

type Head = Extract<GuestEvent, { kind: 'head' }>;

export class ResponseRelay {
  #held?: { head: Head; chunks: Uint8Array[] };
  #passing = false;

  constructor(
    private readonly stream: ResponseStream | undefined,
    private readonly hasWrites: () => boolean,
    private readonly version: string,
  ) {}

  head(head: Head): void {
    if (!this.stream) return;
    if (this.hasWrites()) {
      this.#held = { head, chunks: [] };
      return;
    }
    this.#passing = true;
    this.stream.head({ status: head.status, headers: head.headers, cold: head.cold, version: this.version });
  }

  chunk(bytes: Uint8Array): void {
    if (this.#held) this.#held.chunks.push(bytes);
    else if (this.#passing) this.stream!.chunk(bytes);
  }

  /** Whether the response went to the client as it was produced. */
  get streamed(): boolean {
    return this.#passing;
  }

  /** The held response, whole; undefined when nothing was held. */
  held(): GuestResponse | undefined {
    if (!this.#held) return undefined;
    const body = Buffer.concat(this.#held.chunks);
    return { status: this.#held.head.status, headers: this.#held.head.headers, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
  }
}
