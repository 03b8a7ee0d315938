// What one call on the event loop exchanges with the node beyond its arguments: the outgoing
// requests a guest of either world makes (OutgoingFetches), and for a wasi:http guest the request
// it is handed and the response it builds (HttpExchange), as the bindings of http-world.ts see them.

import type { Job } from '../engine.js';
import type { GuestEvent, GuestResponse, OutgoingHttpRequest, OutgoingHttpResult } from '../protocol.js';
import { CallResponse } from '../wasi-http/call-response.js';
import { IncomingRequest, ResponseOutparam } from './http-world.js';

/**
 * The outgoing requests of one call (of either world), made by the invoker (allow-list, limits,
 * deadline) through the job's events; `done` hears an answer unless the call has ended by then.
 * Without an invoker there is nobody to make them: refused.
 */
export class OutgoingFetches {
  #nextFetch = 1;
  #closed = false;

  constructor(private readonly events: Job['events']) {}

  fetch(request: OutgoingHttpRequest, done: (result: OutgoingHttpResult) => void): void {
    if (!this.events) return done({ ok: false, error: { tag: 'HTTP-request-denied' } });
    const fetchId = this.#nextFetch++;
    this.events({ kind: 'fetch', fetchId, request }, (answer) => {
      if (!this.#closed && 'fetchId' in answer && answer.fetchId === fetchId) done(answer.result);
    });
  }

  /** The call was answered without the guest: later answers reach nobody. */
  close(): void {
    this.#closed = true;
  }
}

/** One request to a wasi:http guest: the handler's arguments, and the response they produced. */
export class HttpExchange {
  readonly args: [IncomingRequest, ResponseOutparam];
  readonly #response: CallResponse;
  #closed = false;

  constructor(
    job: Pick<Job, 'request' | 'stream' | 'events' | 'memoryLimitBytes'>,
    cold: boolean,
  ) {
    // A chunk is answered once its client has taken it.
    const post = (event: GuestEvent) => {
      if (this.#closed) return;
      if (!job.events) return event.kind === 'chunk' ? this.#response.taken(event.bytes.byteLength) : undefined;
      job.events(event, (answer) => {
        if ('taken' in answer) this.#response.taken(answer.taken, answer.closed);
      });
    };
    this.#response = new CallResponse(job.stream === true, post, cold, job.memoryLimitBytes, job.request?.method);
    this.args = [new IncomingRequest(job.request!), new ResponseOutparam(this.#response)];
  }

  /**
   * The call was answered without the guest (its deadline passed while it waited): whatever it
   * writes when it resumes, until it traps at its next metering check, reaches nobody.
   */
  close(): void {
    this.#closed = true;
  }

  /** The guest waits for time to pass: what it has of its response goes out now. */
  waiting(): void {
    this.#response.startStreaming();
  }

  /** After the handler returned: the response, or why there is none. */
  result(): { response: GuestResponse } | { failure: { kind: 'bad-response'; message: string } } {
    const problem = this.#response.problem(this.args[1].isSet());
    return problem ? { failure: { kind: 'bad-response', message: problem } } : { response: this.#response.response() };
  }
}
