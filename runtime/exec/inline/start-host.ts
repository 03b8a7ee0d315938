// What a guest's start code reaches of the host while its instance is made, before any call: a C
// or Go reactor's initializer, say, whose libc asks for its stdio streams, preopened directories
// or environment. It gets what a call gets of WASI's call-local interfaces: the function's
// environment, clocks, random numbers, stdio. What it prints or logs is held, up to HELD_BYTES,
// and opens the log of the first call its instance serves. Key-value and calls between functions
// belong to an invocation: reached from start code they trap (start-code.ts), and the
// instantiation fails saying why. An outgoing HTTP request is denied, as for a guest allowed none.

import type { GuestHost } from './binding.js';
import type { InvokeReply, KvReply, LogStream } from '../protocol.js';
import { startCodeRefusal } from '../start-code.js';

/** Most of what start code prints that is kept for the first call's log. */
export const HELD_BYTES = 64 * 1024;

type Held = { kind: 'log'; stream: LogStream; message: string } | { kind: 'output'; stream: 'stdout' | 'stderr'; bytes: Uint8Array };

export class StartHost implements GuestHost {
  readonly maxBodyBytes = 0;
  readonly #held: Held[] = [];
  #heldBytes = 0;

  constructor(
    private readonly environment: [string, string][],
    readonly memoryLimitBytes: number,
  ) {}

  env(): [string, string][] {
    return this.environment;
  }

  kv(): KvReply {
    throw startCodeRefusal('key-value');
  }

  invoke(): Promise<InvokeReply> {
    throw startCodeRefusal('invoke');
  }

  log(stream: LogStream, message: string): void {
    if (this.#hold(message.length)) this.#held.push({ kind: 'log', stream, message });
  }

  output(stream: 'stdout' | 'stderr', bytes: Uint8Array): void {
    // The guest may reuse its buffer: the bytes are copied.
    if (this.#hold(bytes.byteLength)) this.#held.push({ kind: 'output', stream, bytes: bytes.slice() });
  }

  #hold(size: number): boolean {
    if (this.#heldBytes + size > HELD_BYTES) return false;
    this.#heldBytes += size;
    return true;
  }

  /** Hands what was held to the first call's host, once. */
  replay(host: GuestHost): void {
    for (const h of this.#held.splice(0)) {
      if (h.kind === 'log') host.log(h.stream, h.message);
      else host.output(h.stream, h.bytes);
    }
  }
}
