// A trigger endpoint for tests: FReD's TriggerNode service over TLS with a certificate of the
// cluster CA (nodes check it against the CA and its address), recording what nodes report.
import * as grpc from '@grpc/grpc-js';
import { triggerService } from '../../replication/grpc/protos.js';
import { serverCredentials } from '../../replication/security/policy.js';

export interface TriggerEvent {
  kind: 'put' | 'delete';
  keygroup: string;
  id: string;
  val?: string;
}

export interface TriggerEndpoint {
  /** host:port to give AddTrigger. */
  host: string;
  /** Every call received, in order. */
  events: TriggerEvent[];
  stop(): void;
}

type Call<Req> = grpc.ServerUnaryCall<Req, unknown>;

/** Serves on 127.0.0.1 with `certificate`'s key pair from `certsDir` (it must cover 127.0.0.1). */
export async function startTriggerEndpoint(certsDir: string, certificate: string): Promise<TriggerEndpoint> {
  const events: TriggerEvent[] = [];
  const server = new grpc.Server();
  server.addService(triggerService, {
    PutItemTrigger: ({ request }: Call<{ keygroup: string; id: string; val: string }>, callback: grpc.sendUnaryData<unknown>) => {
      events.push({ kind: 'put', keygroup: request.keygroup, id: request.id, val: request.val });
      callback(null, {});
    },
    DeleteItemTrigger: ({ request }: Call<{ keygroup: string; id: string }>, callback: grpc.sendUnaryData<unknown>) => {
      events.push({ kind: 'delete', keygroup: request.keygroup, id: request.id });
      callback(null, {});
    },
  });
  const credentials = await serverCredentials(certsDir, certificate);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  // forceShutdown: a node's call left hanging must not keep the test process alive.
  return { host: `127.0.0.1:${port}`, events, stop: () => server.forceShutdown() };
}
