// A FReD client for tests: mcc.fred.client.Client over mTLS with a deadline on every call, plus
// assertions on call failures (gRPC status codes, as FReD clients see them).
import * as grpc from '@grpc/grpc-js';
import * as assert from 'uvu/assert';
import { clientService } from '../../replication/grpc/protos.js';

const CALL_DEADLINE_MS = 5_000;

/** A version vector as decoded from the wire: node id → counter as a decimal string. */
export type WireVersion = Record<string, string>;

export interface Item {
  id: string;
  val: string;
  version: { version: WireVersion };
}

/** A failed call: its gRPC status code and the server's message. */
export interface CallFailure extends Error {
  code: grpc.status;
  details: string;
}

/** A client of one node's FReD client API, presenting one certificate. */
export class FredClient {
  private readonly client: grpc.Client;

  constructor(
    readonly address: string,
    credentials: grpc.ChannelCredentials,
  ) {
    this.client = new grpc.Client(address, credentials);
  }

  /** Any method of the client API, with the request as FReD's .proto names its fields. */
  call<Res = Record<string, unknown>>(method: string, request: object = {}): Promise<Res> {
    const definition = clientService[method];
    if (!definition) throw new TypeError(`no method ${method} in mcc.fred.client.Client`);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + CALL_DEADLINE_MS },
        (error, response) => {
          if (error) {
            error.message = `${method} on ${this.address}: ${error.message}`;
            reject(error);
          } else resolve(response as Res);
        },
      );
    });
  }

  createKeygroup(keygroup: string, mutable = true, expiry = 0) {
    return this.call('CreateKeygroup', { keygroup, mutable, expiry });
  }

  async update(keygroup: string, id: string, data: string, versions: WireVersion[] = []): Promise<WireVersion> {
    const request = { keygroup, id, data, versions: versions.map((version) => ({ version })) };
    return (await this.call<{ version: { version: WireVersion } }>('Update', request)).version.version;
  }

  async read(keygroup: string, id: string): Promise<Item[]> {
    return (await this.call<{ data: Item[] }>('Read', { keygroup, id })).data;
  }

  async delete(keygroup: string, id: string): Promise<WireVersion> {
    return (await this.call<{ version: { version: WireVersion } }>('Delete', { keygroup, id })).version.version;
  }

  addReplica(keygroup: string, nodeId: string, expiry = 0) {
    return this.call('AddReplica', { keygroup, nodeId, expiry });
  }

  removeReplica(keygroup: string, nodeId: string) {
    return this.call('RemoveReplica', { keygroup, nodeId });
  }

  close(): void {
    this.client.close();
  }
}

/** Awaits `action`, asserts it failed with gRPC status `code` (and a matching message) and returns the failure. */
export async function rejects(action: Promise<unknown> | (() => Promise<unknown>), code: grpc.status, mentions?: RegExp): Promise<CallFailure> {
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (error) {
    const failure = error as CallFailure;
    assert.is(grpc.status[failure.code], grpc.status[code], `expected ${grpc.status[code]}, got ${failure.message}`);
    if (mentions) assert.match(failure.details, mentions);
    return failure;
  }
  assert.unreachable(`expected the call to fail with ${grpc.status[code]}`);
  throw new Error('unreachable');
}

/** The single item of a Read, as value and version. */
export function only(items: Item[]): { val: string; version: WireVersion } {
  assert.is(items.length, 1, `expected one item, got ${JSON.stringify(items)}`);
  return { val: items[0]!.val, version: items[0]!.version.version };
}
