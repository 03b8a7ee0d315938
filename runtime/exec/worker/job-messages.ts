// What the pool tells a worker for a job, and what it tells a caller about a job no worker
// answered: pure translations between a Job, the worker protocol and a JobResult.

import type { Job, JobResult } from '../engine.js';
import type { FromWorker, LoadSpec, ToWorker } from '../protocol.js';

/** The `invoke` message of call `id`; `load` when the worker has no warm instance of its code. */
export function invokeMessage(id: number, job: Job, load?: LoadSpec): Extract<ToWorker, { type: 'invoke' }> {
  return {
    type: 'invoke',
    id,
    instanceKey: job.instanceKey,
    load,
    request: job.request,
    env: job.env,
    memoryLimitBytes: job.memoryLimitBytes,
    maxLogBytes: job.maxLogBytes,
    world: job.meta.world,
    stream: job.stream,
    maxBodyBytes: job.maxBodyBytes,
  };
}

/** The result of a job that ended without a worker's answer: its worker crashed, or none ran it. */
export function unanswered(kind: 'crash' | 'timeout' | 'load' | 'bad-response' | 'memory', message: string, queuedMs: number, cold = false): JobResult {
  return { failure: { kind, message }, cold, logs: [], logsTruncated: false, queuedMs };
}

/** The result a worker's `done` message gives its caller. */
export function answered(message: Extract<FromWorker, { type: 'done' }>, queuedMs: number): JobResult {
  return {
    response: message.response,
    failure: message.failure,
    cold: message.cold,
    logs: message.logs,
    logsTruncated: message.logsTruncated,
    queuedMs,
  };
}
