// A guest's stdout and stderr as log lines, for both engines: bytes are decoded as UTF-8 and
// split at newlines; a last line without one is emitted when the call ends. A line longer than
// MAX_LINE is emitted in pieces of that length, so a guest that writes without newlines holds
// no growing string in the node, and each write costs the node work in proportion to its own
// length (the text before it is not searched again). Decoders are made at the first output:
// most calls write none, and a TextDecoder is not free.

import type { LogStream } from './protocol.js';

/** UTF-16 code units of one log line at most. */
export const MAX_LINE = 64 * 1024;

type StdStream = Extract<LogStream, 'stdout' | 'stderr'>;

export class OutputLines {
  readonly #pending = { stdout: '', stderr: '' };
  #decoders?: { stdout: TextDecoder; stderr: TextDecoder };

  constructor(private readonly emit: (stream: StdStream, line: string) => void) {}

  write(stream: StdStream, bytes: Uint8Array): void {
    this.#decoders ??= { stdout: new TextDecoder(), stderr: new TextDecoder() };
    this.#add(stream, this.#decoders[stream].decode(bytes, { stream: true }));
  }

  #add(stream: StdStream, text: string): void {
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      const line = this.#pending[stream] + text.slice(start, newline);
      this.#pending[stream] = '';
      this.emit(stream, this.#pieces(stream, line.endsWith('\r') ? line.slice(0, -1) : line));
      start = newline + 1;
    }
    this.#pending[stream] = this.#pieces(stream, this.#pending[stream] + text.slice(start));
  }

  /** Emits `text` in lines of MAX_LINE while more than that is left; returns the rest. */
  #pieces(stream: StdStream, text: string): string {
    let at = 0;
    for (; text.length - at > MAX_LINE; at += MAX_LINE) this.emit(stream, text.slice(at, at + MAX_LINE));
    return at === 0 ? text : text.slice(at);
  }

  end(): void {
    if (!this.#decoders) return;
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.#pending[stream] + this.#decoders[stream].decode();
      if (rest !== '') this.emit(stream, rest);
      this.#pending[stream] = '';
    }
  }
}
