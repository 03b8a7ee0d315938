// One call of a wasi:http guest on a worker: a fresh instance per request (a StarlingMonkey
// instance answers only one request: a second respondWith fails), taken from a few instantiated
// ahead so that this costs the request nothing; the response checked as it is produced and
// either streamed to the main thread (head, then body chunks, on the worker's port, ahead of the
// call's `done`) or collected into one response (wasi-http/call-response.ts).

import type { GuestEvent } from '../../protocol.js';
import type { CallResponse } from '../../wasi-http/call-response.js';
import type { HttpCallHost, HttpTypes, OutgoingHttpRequest, OutgoingHttpResult } from './http-types.js';
import type { HostEvents } from './sync-io.js';

export interface HttpInstance {
  handle(request: unknown, responseOut: unknown): unknown;
  memoryBytes(): number;
  /** Called once the instance will never run again: its memory may serve another. */
  release(): void;
}

/** Instances kept ready per function version on each worker. */
export const SPARE_INSTANCES = 1;

/** Instances of one function version, made ahead of the requests that use them. */
export class SparePool {
  readonly #ready: HttpInstance[] = [];
  /** Takers waiting for the instance being made. */
  readonly #waiting: ((made: HttpInstance | Error) => void)[] = [];
  #filling = false;

  constructor(readonly make: () => Promise<HttpInstance>) {}

  /**
   * A ready instance; `cold` when the request had to wait for one to be made. A taker never
   * waits for more than the instance in the making.
   */
  async take(): Promise<{ instance: HttpInstance; cold: boolean }> {
    const spare = this.#ready.shift();
    if (spare) return { instance: spare, cold: false };
    if (!this.#filling) return { instance: await this.make(), cold: true };
    const made = await new Promise<HttpInstance | Error>((resolve) => this.#waiting.push(resolve));
    if (made instanceof Error) throw made;
    return { instance: made, cold: true };
  }

  /** Makes instances until SPARE_INSTANCES are ready, one at a time, in the background. */
  refill(): void {
    if (this.#filling) return;
    this.#filling = true;
    void (async () => {
      try {
        while (this.#waiting.length > 0 || this.#ready.length < SPARE_INSTANCES) {
          let made: HttpInstance | Error;
          try {
            made = await this.make();
          } catch (err) {
            made = err as Error;
          }
          const taker = this.#waiting.shift();
          if (taker) taker(made);
          else if (made instanceof Error) return; // the next call loads it again and reports why
          else this.#ready.push(made);
        }
      } finally {
        this.#filling = false;
        // A taker that came while the last instance was being made gets one of its own.
        for (const taker of this.#waiting.splice(0)) this.make().then(taker, taker);
      }
    })();
  }

  /** Waits until an instance is ready (a load-only call: nothing is taken). */
  async warm(): Promise<boolean> {
    if (this.#ready.length > 0) return false;
    const { instance } = await this.take();
    this.#ready.unshift(instance);
    return true;
  }

  memoryBytes(): number {
    return this.#ready.reduce((sum, i) => sum + i.memoryBytes(), 0);
  }
}

/**
 * The call host the http types use: outgoing requests go to the main thread as events; answers
 * come back on the events channel, tagged with the call and the request, and so do the answers
 * to the response's body chunks (what its client has taken, which lets the guest write more).
 */
export class OutgoingCalls {
  #nextId = 1;
  readonly #waiting = new Map<number, (result: OutgoingHttpResult) => void>();
  #callId = 0;
  #maxBodyBytes = 0;
  #memoryLimitBytes = 0;
  #response?: Pick<CallResponse, 'taken'>;

  constructor(
    events: HostEvents,
    private readonly post: (event: GuestEvent) => void,
  ) {
    events.listen((message) => {
      const answer = message as { callId?: number; fetchId?: number; result?: OutgoingHttpResult; taken?: number; closed?: true } | undefined;
      if (answer?.callId !== this.#callId) return;
      if (typeof answer.taken === 'number') return this.#response?.taken(answer.taken, answer.closed === true);
      if (answer.fetchId === undefined || !answer.result) return;
      const done = this.#waiting.get(answer.fetchId);
      this.#waiting.delete(answer.fetchId);
      done?.(answer.result);
    });
  }

  /** Starts a call: answers for earlier calls are ignored from now on. */
  begin(callId: number, maxBodyBytes: number, memoryLimitBytes: number, response: Pick<CallResponse, 'taken'>): void {
    this.#callId = callId;
    this.#maxBodyBytes = maxBodyBytes;
    this.#memoryLimitBytes = memoryLimitBytes;
    this.#response = response;
    this.#waiting.clear();
  }

  /** For the http types: the call in progress. */
  host(): HttpCallHost {
    return {
      fetch: (request: OutgoingHttpRequest, done: (result: OutgoingHttpResult) => void) => {
        const fetchId = this.#nextId++;
        this.#waiting.set(fetchId, done);
        this.post({ kind: 'fetch', fetchId, request });
      },
      maxBodyBytes: this.#maxBodyBytes,
      memoryLimitBytes: this.#memoryLimitBytes,
    };
  }
}

export function runHttpCall(
  types: HttpTypes,
  instance: HttpInstance,
  request: Parameters<HttpTypes['incomingRequest']>[0],
  response: CallResponse,
): string | undefined {
  const out = types.responseOutparam(response);
  instance.handle(types.incomingRequest(request), out);
  return response.problem(out.isSet());
}
