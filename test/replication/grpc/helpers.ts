// Test helpers for the gRPC bridge: loopback servers that are always stopped, and assertions on
// gRPC call failures. Certificates come from grpc-transport/harness.ts (makeCerts).
import * as grpc from '@grpc/grpc-js';
import * as assert from 'uvu/assert';
import { GrpcCallError } from '../../../replication/grpc/call.js';

export interface TestServer {
  address: string;
  stop(): void;
}

/** A grpc server on 127.0.0.1 and a port chosen by the OS. */
export async function startServer(
  services: Array<[grpc.ServiceDefinition, grpc.UntypedServiceImplementation]>,
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
  options: grpc.ServerOptions = {},
): Promise<TestServer> {
  const server = new grpc.Server(options);
  for (const [definition, implementation] of services) server.addService(definition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  // forceShutdown: a test that left a call hanging must not keep the process alive.
  return { address: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}

/** Awaits `action` and asserts it failed with a GrpcCallError of `code` whose text matches. */
export async function rejectsWith(action: () => Promise<unknown>, code: grpc.status, mentions?: RegExp): Promise<GrpcCallError> {
  try {
    await action();
  } catch (error) {
    assert.instance(error, GrpcCallError, String(error));
    const callError = error as GrpcCallError;
    assert.is(callError.code, code, `expected ${grpc.status[code]}, got ${callError.message}`);
    if (mentions) assert.match(callError.details, mentions);
    return callError;
  }
  assert.unreachable(`expected a failure with ${grpc.status[code]}`);
  throw new Error('unreachable');
}

/** Awaits `action` and asserts it failed with an error whose message matches. */
export async function rejectsMatching(action: () => Promise<unknown>, message: RegExp): Promise<Error> {
  try {
    await action();
  } catch (error) {
    assert.match(String((error as Error).message), message);
    return error as Error;
  }
  assert.unreachable(`expected a failure matching ${message}`);
  throw new Error('unreachable');
}
