// Results of asynchronous invocations (202 + id now, result later), kept in memory for a
// bounded time and count. A node restart forgets pending and finished ones.

import type { EnokiError } from '../errors.js';
import type { GuestResponse } from '../exec/protocol.js';

export type AsyncState =
  | { state: 'running'; createdAt: number }
  | { state: 'done'; createdAt: number; finishedAt: number; response: GuestResponse }
  | { state: 'failed'; createdAt: number; finishedAt: number; error: EnokiError };

export class AsyncInvocations {
  readonly #entries = new Map<string, AsyncState>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts tracking `id`; `work` settles it. Returns false when the table is full of running ones. */
  track(id: string, work: Promise<GuestResponse>): boolean {
    this.#expire();
    this.#makeRoom();
    if (this.#entries.size >= this.maxEntries) return false;
    const createdAt = this.now();
    this.#entries.set(id, { state: 'running', createdAt });
    work.then(
      (response) => this.#entries.set(id, { state: 'done', createdAt, finishedAt: this.now(), response }),
      (error: EnokiError) => this.#entries.set(id, { state: 'failed', createdAt, finishedAt: this.now(), error }),
    );
    return true;
  }

  get(id: string): AsyncState | undefined {
    this.#expire();
    return this.#entries.get(id);
  }

  #expire(): void {
    const cutoff = this.now() - this.ttlMs;
    for (const [id, entry] of this.#entries) {
      if (entry.state !== 'running' && entry.finishedAt < cutoff) this.#entries.delete(id);
    }
  }

  /** Frees a place for a new entry: the oldest finished go first (Map keeps insertion order). */
  #makeRoom(): void {
    for (const [id, entry] of this.#entries) {
      if (this.#entries.size < this.maxEntries) break;
      if (entry.state !== 'running') this.#entries.delete(id);
    }
  }
}
