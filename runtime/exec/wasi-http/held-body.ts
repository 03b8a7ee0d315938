// The part of a wasi:http response body the node holds for one call because it cannot pass it on
// yet: bytes written before the response is set, a response its caller takes whole (an async
// invocation, a call between functions), or one held until the call's key-value writes are
// committed. A guest writing an endless body in any of these ways would otherwise have the node
// keep every byte until the call's timeout, gigabytes a second. The node holds at most the
// function's memory limit of such a body, what the guest may hold itself; past it the call fails
// with a bad response.

/** A body held past its limit: thrown into the guest's write, it ends the call as a bad response. */
export class HeldBodyOverflow extends Error {
  readonly failure = 'bad-response' as const;
}

export class HeldBody {
  #chunks: Uint8Array[] = [];
  #bytes = 0;

  /** `during` ends the failure's "the guest wrote more than N MiB of its response body …". */
  constructor(
    private readonly limitBytes: number,
    private readonly during: string,
  ) {}

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Keeps `bytes`. Past the limit nothing more is kept (what was held is let go) and it throws
   * HeldBodyOverflow.
   */
  push(bytes: Uint8Array): void {
    this.#bytes += bytes.byteLength;
    if (this.#bytes > this.limitBytes) {
      this.#chunks = [];
      throw new HeldBodyOverflow(
        `the guest wrote more than ${formatLimit(this.limitBytes)} of its response body ${this.during}: ` +
          'a node holds no more of a body it cannot send yet than the function may hold in its own memory (memoryMiB)',
      );
    }
    this.#chunks.push(bytes);
  }

  /** The chunks held so far, in order; the body holds nothing after. */
  take(): Uint8Array[] {
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#bytes = 0;
    return chunks;
  }

  /** Everything held, as one array. */
  joined(): Uint8Array {
    const body = Buffer.concat(this.#chunks);
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  }
}

function formatLimit(bytes: number): string {
  const mib = bytes / 2 ** 20;
  return Number.isInteger(mib) ? `${mib} MiB` : `${bytes} bytes`;
}
