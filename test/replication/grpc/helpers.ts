// Test helpers for the gRPC bridge: loopback servers that are always stopped, certificates made
// with openssl in a temporary directory, and assertions on gRPC call failures.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

export interface KeyPair {
  key: Buffer;
  cert: Buffer;
}

export interface TestPki {
  dir: string;
  ca: Buffer;
  /** An unrelated CA that signed only `stranger`. */
  otherCa: Buffer;
  server: KeyPair;
  /** CN=node2, signed by the CA. */
  client: KeyPair;
  /** CN=node2 too, but signed by an unrelated CA. */
  stranger: KeyPair;
  remove(): void;
}

/** A cluster CA with a server (SAN IP:127.0.0.1) and a client certificate, plus a stranger. */
export function makePki(): TestPki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enoki-grpc-pki-'));
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  const makeCa = (name: string) =>
    openssl('req', '-x509', ...ecKey, '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`), '-days', '1',
      '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const makeLeaf = (name: string, cn: string, ca: string, extensions: string) => {
    fs.writeFileSync(file(`${name}.ext`), extensions);
    openssl('req', ...ecKey, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', `/CN=${cn}`);
    openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.crt`), '-CAkey', file(`${ca}.key`),
      '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '1', '-out', file(`${name}.crt`), '-extfile', file(`${name}.ext`));
    return { key: fs.readFileSync(file(`${name}.key`)), cert: fs.readFileSync(file(`${name}.crt`)) };
  };

  makeCa('ca');
  makeCa('otherca');
  const leaf = 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n';
  return {
    dir,
    ca: fs.readFileSync(file('ca.crt')),
    otherCa: fs.readFileSync(file('otherca.crt')),
    server: makeLeaf('server', 'node1', 'ca', `${leaf}subjectAltName=IP:127.0.0.1\n`),
    client: makeLeaf('client', 'node2', 'ca', leaf),
    stranger: makeLeaf('stranger', 'node2', 'otherca', leaf),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
