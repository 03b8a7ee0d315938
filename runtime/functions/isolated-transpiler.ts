// The deploy-time transpiler (transpiler.ts) behind a worker thread that lives only while deploys
// come: jco's wasm grows its memory to hundreds of MiB on a JS component and never shrinks it, so
// a node that ran it in-process kept that memory for its whole life. The worker starts with the
// first deploy and ends after `idleMs` without one.

import { Worker } from 'node:worker_threads';
import { EnokiError, type ErrorCode } from '../errors.js';
import type { TranspiledComponent } from './transpiler.js';

interface Reply {
  id: number;
  out?: TranspiledComponent;
  error?: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

export class IsolatedTranspiler {
  #worker?: Worker;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (out: TranspiledComponent) => void; reject: (err: Error) => void }>();
  #idle?: NodeJS.Timeout;

  constructor(
    private readonly witDir: string,
    private readonly idleMs = 10_000,
  ) {}

  transpile(bytes: Uint8Array): Promise<TranspiledComponent> {
    clearTimeout(this.#idle);
    const worker = this.#start();
    const id = this.#nextId++;
    return new Promise<TranspiledComponent>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // A copy goes over: the caller keeps its bytes (it stores them after the checks pass).
      worker.postMessage({ id, bytes });
    });
  }

  /** Ends the worker now (the node is stopping). */
  async close(): Promise<void> {
    clearTimeout(this.#idle);
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./transpile-worker.js', import.meta.url), { workerData: { witDir: this.witDir } });
    worker.on('message', (reply: Reply) => {
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      if (reply.error) pending.reject(new EnokiError(reply.error.code, reply.error.message, reply.error.details));
      else pending.resolve(reply.out!);
      this.#scheduleEnd();
    });
    const fail = (err: Error) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      for (const [id, pending] of this.#pending) {
        this.#pending.delete(id);
        pending.reject(new EnokiError('ERR_INTERNAL', `the transpiler stopped: ${err.message}`));
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    this.#worker = worker;
    return worker;
  }

  #scheduleEnd(): void {
    if (this.#pending.size > 0) return;
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => void this.close(), this.idleMs);
    this.#idle.unref();
  }
}
