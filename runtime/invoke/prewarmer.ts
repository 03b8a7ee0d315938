// Loads warm instances in the background, one function at a time: at start for every deployed
// function, and after each deploy or rollback for the version that became active. A node with
// many functions thus comes up at once and warms them behind live traffic (prewarm jobs queue
// behind invocations on the worker pool) instead of competing with it.

import type { Logger } from 'pino';

export interface PrewarmTarget {
  prewarm(name: string): Promise<boolean>;
}

export class Prewarmer {
  readonly #pending = new Set<string>();
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(
    private readonly target: PrewarmTarget,
    private readonly logger: Logger,
  ) {}

  schedule(...names: string[]): void {
    if (this.#stopped) return;
    for (const name of names) this.#pending.add(name);
    this.#running ??= this.#drain().finally(() => (this.#running = undefined));
  }

  /** Resolves when nothing is left to prewarm. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  stop(): void {
    this.#stopped = true;
    this.#pending.clear();
  }

  async #drain(): Promise<void> {
    for (const name of this.#pending) {
      this.#pending.delete(name);
      if (this.#stopped) return;
      try {
        await this.target.prewarm(name);
      } catch (err) {
        this.logger.debug({ fn: name, err }, 'prewarm failed; the first call loads the function');
      }
    }
  }
}
