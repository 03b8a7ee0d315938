// One call of a guest on the event loop, from its arguments to its result: the host its imports
// reach (the job's KV and calls, its log lines and output), the deadline that abandons it, and
// what its outcome means for the caller and for the instance (reusable, or never to run again).

import type { DeadlineWatch } from './deadline-watch.js';
import type { Job, JobResult } from '../engine.js';
import type { GuestResponse, LogLine, LogStream } from '../protocol.js';
import { checkResponse, describeFailure, guestError, type MemoryUse } from '../guest-failure.js';
import type { GuestHost } from './binding.js';
import type { HandleResult } from './enoki-world.js';
import { HttpExchange, OutgoingFetches } from './http-exchange.js';
import type { GuestInstance } from './linker.js';
import { OutputLines } from '../output-lines.js';

export interface CallOutcome {
  result: JobResult;
  /** Whether the instance may serve another call (false: it trapped, was abandoned, or served its one request). */
  reusable: boolean;
  /**
   * The call ran on the plain stack and used up its time slice: it was stopped, nothing of it
   * counts (its log included), and it is to be made again, on another instance, through JSPI.
   */
  sliced?: boolean;
}

export interface CallOptions {
  /** Run on the plain stack (GuestInstance.mayRunOnStack). */
  onStack?: boolean;
  /** When the call times out (performance.now() time); by default its timeout from now. */
  deadline?: number;
}

const TIMED_OUT = Symbol('timed out');

/**
 * Settles with the call, or with TIMED_OUT once its deadline has passed (an abandoned call still
 * settles later; nobody waits for it then). A last line without a newline belongs to this call's
 * log too.
 */
function settled(instance: GuestInstance, host: GuestHost, args: unknown[], deadline: number, deadlines: DeadlineWatch, output: OutputLines): Promise<unknown> {
  return new Promise<unknown>((resolve, reject) => {
    const watched = deadlines.watch(deadline + 1, () => resolve(TIMED_OUT));
    instance.call(host, args, deadline).then(
      (result) => {
        deadlines.unwatch(watched);
        output.end();
        resolve(result);
      },
      (err: unknown) => {
        deadlines.unwatch(watched);
        output.end();
        reject(err);
      },
    );
  });
}

/** The instance's memory as a failure is judged: what it holds, and whether its call grew it. */
function memoryUse(instance: GuestInstance, limitBytes: number, heldAtStart: number): MemoryUse {
  const heldBytes = instance.memoryBytes();
  return { heldBytes, limitBytes, grew: heldBytes > heldAtStart };
}

/**
 * One call, to its outcome. A call on the plain stack (`onStack`) is made to its end before this
 * returns, and so is answered without a promise; it cannot be suspended, so it cannot wait past its
 * deadline unseen (it traps at its next metering check) and needs no watch.
 */
export function runCall(
  instance: GuestInstance,
  job: Job,
  cold: boolean,
  queuedMs: number,
  deadlines: DeadlineWatch,
  options: CallOptions = {},
): CallOutcome | Promise<CallOutcome> {
  const logs: LogLine[] = [];
  let logBytes = 0;
  let logsTruncated = false;
  const deadline = options.deadline ?? performance.now() + job.timeoutMs;
  const log = (stream: LogStream, message: string) => {
    logBytes += message.length;
    if (logBytes > job.maxLogBytes) logsTruncated = true;
    else logs.push({ stream, message });
  };
  const output = new OutputLines(log);
  // As on a worker: what a fresh instance holds (a wasi:http guest's always is), its call took.
  const heldAtStart = cold || instance.kind === 'http' ? 0 : instance.memoryBytes();
  // A wasi:http guest's instance serves one request; its arguments carry the response it sets.
  const http = instance.kind === 'http' ? new HttpExchange(job, cold) : undefined;
  // Its outgoing requests, in either world (made when it makes its first).
  let fetches: OutgoingFetches | undefined;
  const host: GuestHost = {
    kv: job.kv,
    log,
    output: (stream, bytes) => output.write(stream, bytes),
    env: () => job.env,
    memoryLimitBytes: job.memoryLimitBytes,
    invoke: (call) => {
      if (!job.invoke) return Promise.resolve({ ok: false, error: { tag: 'unavailable', val: 'calls are not served here' } });
      return job.invoke(call, deadline - performance.now());
    },
    waiting: http && (() => http.waiting()),
    fetch: (request, done) => (fetches ??= new OutgoingFetches(job.events)).fetch(request, done),
    maxBodyBytes: job.maxBodyBytes ?? 0,
  };
  const ended = (result: Pick<JobResult, 'response' | 'failure'>, reusable: boolean): CallOutcome => ({
    result: { ...result, cold, logs, logsTruncated, queuedMs },
    reusable,
  });
  const timedOut = () => ended({ failure: { kind: 'timeout', message: `the function ran longer than its timeout of ${job.timeoutMs} ms` } }, false);
  const finish = (outcome: unknown): CallOutcome => {
    if (outcome === TIMED_OUT) {
      instance.meter.abandon();
      http?.close();
      fetches?.close();
      return timedOut();
    }
    if (http) return ended(http.result(), false);
    const result = outcome as HandleResult;
    if (result.tag === 'err') {
      const failure = guestError(result.val, memoryUse(instance, job.memoryLimitBytes, heldAtStart));
      // The guest's own `err` leaves its instance usable; running out of memory does not.
      return ended({ failure }, failure.kind === 'error');
    }
    let response: GuestResponse;
    try {
      response = checkResponse(result.val, job.request?.method);
    } catch (err) {
      return ended({ failure: { kind: 'bad-response', message: (err as Error).message } }, true);
    }
    return ended({ response }, true);
  };
  const failed = (err: unknown): CallOutcome => {
    if (instance.meter.reentrantTooLong) {
      const message = `the guest's allocator or post-return function ran for more than ${instance.meter.reentrantMs} ms, holding up every other call`;
      return ended({ failure: { kind: 'trap', message } }, false);
    }
    if (instance.meter.sliceUsed) return { ...ended({ failure: { kind: 'timeout', message: 'stopped at the end of its time slice' } }, false), sliced: true };
    if (instance.meter.expired) return timedOut();
    const failure = describeFailure(err, memoryUse(instance, job.memoryLimitBytes, heldAtStart), logs);
    // What a wasi:http guest throws has no WIT error to be: it is a trap, as on a worker.
    return ended({ failure: http && failure.kind === 'error' ? { kind: 'trap', message: failure.message } : failure }, false);
  };
  const outcomeOf = (outcome: unknown): CallOutcome => {
    try {
      // A call that ends after its deadline ran longer than its timeout, however little: one
      // resumed by an answer that came at the deadline (a callee capped by it, say) and done
      // before its watch fired, or done within the last quantum of fuel, is not a success.
      return finish(outcome !== TIMED_OUT && performance.now() > deadline ? TIMED_OUT : outcome);
    } catch (err) {
      return failed(err);
    }
  };
  if (options.onStack) {
    let outcome: unknown;
    try {
      outcome = instance.callOnStack(host, [job.request!], deadline);
    } catch (err) {
      output.end();
      return failed(err);
    }
    output.end();
    return outcomeOf(outcome);
  }
  return settled(instance, host, http ? http.args : [job.request!], deadline, deadlines, output).then(outcomeOf, failed);
}
