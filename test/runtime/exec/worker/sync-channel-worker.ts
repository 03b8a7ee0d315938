// Test-only worker for sync-channel.test.ts: makes each request in workerData.requests as a
// blocking call, one after another, and posts the replies back in order with the number of
// foreign replies the channel dropped.
import { parentPort, workerData } from 'node:worker_threads';
import { SyncCaller, type SyncChannelEnd } from '../../../../runtime/exec/worker/sync-channel.js';

const { end, requests } = workerData as { end: SyncChannelEnd; requests: unknown[] };
const caller = new SyncCaller<unknown, unknown>(end);
const replies: unknown[] = [];
for (const request of requests) replies.push(caller.call(request));
parentPort!.postMessage({ replies, dropped: caller.dropped });
