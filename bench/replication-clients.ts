// The client side of the replication bench: FReD client API calls, the TriggerNode endpoint B
// notifies, the echo service of the transport baseline (on its own thread), and the poller.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import { clientService, triggerService } from '../replication/grpc/protos.js';
import { clientCredentials, serverCredentials } from '../replication/security/policy.js';

export const KEYGROUP = 'bench';
/** The client certificate every call presents. */
export const USER = 'admin';
/** Node certificate of the servers this process runs (trigger endpoint, echo). */
export const BENCH_SERVER = 'benchserver';

// A gRPC unary method with raw bytes in and out: the transport with no protobuf work on top.
const passThrough = (b: Buffer) => b;
const ECHO_SERVICE: grpc.ServiceDefinition = {
  Echo: {
    path: '/enoki.bench.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: passThrough,
    requestDeserialize: passThrough,
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
  },
};

export type Call = (method: string, request: object) => Promise<Record<string, unknown>>;

export async function fredClient(address: string, certs: string, nodeId: string): Promise<{ call: Call; close(): void }> {
  const Client = grpc.makeGenericClientConstructor(clientService, 'Client');
  const client = new Client(address, await clientCredentials(certs, USER, { serverNodeId: nodeId }));
  const methods = client as unknown as Record<string, (req: object, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Record<string, unknown>) => void) => void>;
  const call: Call = (method, request) =>
    new Promise((resolve, reject) => {
      methods[method].call(client, request, { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res)));
    });
  return { call, close: () => client.close() };
}

/** Receives B's trigger calls: item id → arrival time. */
export async function startTriggerServer(certs: string): Promise<{ address: string; arrivals: Map<string, number>; close(): void }> {
  const arrivals = new Map<string, number>();
  const server = new grpc.Server();
  server.addService(triggerService, {
    PutItemTrigger: (call: grpc.ServerUnaryCall<{ id: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      if (!arrivals.has(call.request.id)) arrivals.set(call.request.id, performance.now());
      cb(null, {});
    },
    DeleteItemTrigger: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, {}),
  });
  const credentials = await serverCredentials(certs, BENCH_SERVER);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { address: `127.0.0.1:${port}`, arrivals, close: () => server.forceShutdown() };
}

export async function startEcho(certs: string): Promise<{ echo(payload: Buffer): Promise<void>; close(): Promise<void> }> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { certs } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (m: { port?: number; error?: string }) => (m.port ? resolve(m.port) : reject(new Error(`echo server: ${m.error}`))));
    worker.once('error', reject);
  });
  const Client = grpc.makeGenericClientConstructor(ECHO_SERVICE, 'Echo');
  const client = new Client(`127.0.0.1:${port}`, await clientCredentials(certs, USER, { serverNodeId: BENCH_SERVER }));
  const echo = client as unknown as { Echo(req: Buffer, cb: (err: Error | null) => void): void };
  return {
    echo: (payload) => new Promise((resolve, reject) => echo.Echo(payload, (err) => (err ? reject(err) : resolve()))),
    async close() {
      client.close();
      await worker.terminate();
    },
  };
}

/** Reads the oldest sent, not yet seen item on B, back to back; records when each first shows up. */
export function poller(b: { call: Call }, prefix: string, writes: number) {
  const seenAt = new Map<string, number>();
  let running = true;
  return {
    seen: (id: string) => seenAt.get(id),
    stop: () => {
      running = false;
    },
    async start(sent: (i: number) => boolean) {
      let next = 0;
      while (running && next < writes) {
        if (!sent(next)) {
          await new Promise((r) => setImmediate(r));
          continue;
        }
        const id = `${prefix}${next}`;
        const found = await b.call('Read', { keygroup: KEYGROUP, id, versions: [] }).then(
          () => true,
          (err: grpc.ServiceError) => {
            if (err.code !== grpc.status.NOT_FOUND) throw err;
            return false;
          },
        );
        if (found) {
          seenAt.set(id, performance.now());
          next++;
        }
      }
    },
  };
}

if (!isMainThread) {
  // The echo server runs on its own thread, so its event loop is not the client's (as with a node).
  const { certs } = workerData as { certs: string };
  const server = new grpc.Server();
  server.addService(ECHO_SERVICE, { Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request) });
  const credentials = await serverCredentials(certs, BENCH_SERVER);
  server.bindAsync('127.0.0.1:0', credentials, (err, port) => parentPort!.postMessage(err ? { error: err.message } : { port }));
}
