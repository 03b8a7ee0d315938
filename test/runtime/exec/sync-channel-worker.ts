// Test-only worker for sync-channel.test.ts: makes each request in workerData.requests as a
// blocking call, one after another, and posts the replies back in order.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { syncCaller } from '../../../runtime/exec/sync-channel.js';

const { end, requests } = workerData as { end: { port: MessagePort; flag: SharedArrayBuffer }; requests: unknown[] };
const call = syncCaller<unknown, unknown>(end);
const replies: unknown[] = [];
for (const request of requests) replies.push(call(request));
parentPort!.postMessage(replies);
