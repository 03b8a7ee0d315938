// A guest's stdout and stderr as log lines: bytes are decoded as UTF-8 and split at newlines;
// a last line without one is emitted when the call ends. Its decoders are made at the first
// output: most calls write none, and a TextDecoder is not free.

import type { LogStream } from '../protocol.js';

export class OutputLines {
  readonly #pending = { stdout: '', stderr: '' };
  #decoders?: { stdout: TextDecoder; stderr: TextDecoder };

  constructor(private readonly emit: (stream: LogStream, line: string) => void) {}

  write(stream: 'stdout' | 'stderr', bytes: Uint8Array): void {
    this.#decoders ??= { stdout: new TextDecoder(), stderr: new TextDecoder() };
    const text = this.#pending[stream] + this.#decoders[stream].decode(bytes, { stream: true });
    const lines = text.split('\n');
    this.#pending[stream] = lines.pop() as string;
    for (const line of lines) this.emit(stream, line.replace(/\r$/, ''));
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
