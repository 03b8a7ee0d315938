// A client of FReD's client API (mcc.fred.client.Client) for the calls a node makes on another
// node's replica on behalf of its functions: item reads and writes and keygroup creation. One
// channel per address, reused for every call; failures are GrpcCallError (status code, address).
import type * as grpc from '@grpc/grpc-js';
import { UnaryCaller, type CallOptions, type UnaryClientOptions } from '../grpc/call.js';
import { clientService, type WireEmpty, type WireLong, type WireVersion } from '../grpc/protos.js';
import { versionFromWire, versionToWire } from '../grpc/wire.js';
import type { Version } from '../store/port.js';
import type { WireAppend, WireCreateKeygroup, WireDelete, WireRange, WireRead, WireUpdate } from './requests.js';

interface WireItem {
  id: string;
  val: string;
  version?: { version: WireVersion } | null;
}

const method = <Req, Res>(name: string) => clientService[name] as grpc.MethodDefinition<Req, Res>;
const READ = method<WireRead, { data: WireItem[] }>('Read');
const SCAN = method<WireRange, { data: WireItem[] }>('Scan');
const UPDATE = method<WireUpdate, { version: { version: WireVersion } }>('Update');
const DELETE = method<WireDelete, { version: { version: WireVersion } }>('Delete');
const APPEND = method<WireAppend, { id: string }>('Append');
const CREATE_KEYGROUP = method<WireCreateKeygroup, WireEmpty>('CreateKeygroup');

/** One live sibling as the client API returns it. */
export interface RemoteItem {
  id: string;
  value: string;
  version: Version;
}

const toItem = (item: WireItem): RemoteItem => ({ id: item.id, value: item.val, version: versionFromWire(item.version?.version ?? {}) });

export class GrpcClientApiClient {
  private readonly caller: UnaryCaller;

  constructor(
    readonly address: string,
    credentials: grpc.ChannelCredentials,
    options: UnaryClientOptions = {},
  ) {
    this.caller = new UnaryCaller(address, credentials, options, {
      // The channel stays open between invocations; pings keep it (and any proxy tunnel) alive
      // and notice a dead peer. grpc-js servers accept a ping per 5 min without calls by default.
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 10_000,
      // Calls fail at once while the node is unreachable (no waitForReady); a short reconnect
      // backoff means they succeed again within a second of its return, not after up to 2 min.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 1_000,
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
    });
  }

  /** Every live sibling of the item; NOT_FOUND when there is none. */
  async read(keygroup: string, id: string, options?: CallOptions): Promise<RemoteItem[]> {
    return (await this.caller.call(READ, { keygroup, id, versions: [] }, options)).data.map(toItem);
  }

  /** Up to `count` items from `start` (which must exist) in id order, one entry per sibling. */
  async scan(keygroup: string, start: string, count: number, options?: CallOptions): Promise<RemoteItem[]> {
    return (await this.caller.call(SCAN, { keygroup, id: start, count: String(count) as WireLong }, options)).data.map(toItem);
  }

  async update(keygroup: string, id: string, value: string, options?: CallOptions): Promise<Version> {
    return versionFromWire((await this.caller.call(UPDATE, { keygroup, id, data: value, versions: [] }, options)).version.version);
  }

  /**
   * FReD's conditional Update: stored only if every live version there equals or is an ancestor
   * of one of `versions` (non-empty). A refusal is FAILED_PRECONDITION from Enoki, UNKNOWN from FReD.
   */
  async updateIf(keygroup: string, id: string, value: string, versions: Version[], options?: CallOptions): Promise<Version> {
    const wire = versions.map((version) => ({ version: versionToWire(version) }));
    return versionFromWire((await this.caller.call(UPDATE, { keygroup, id, data: value, versions: wire }, options)).version.version);
  }

  async delete(keygroup: string, id: string, options?: CallOptions): Promise<Version> {
    return versionFromWire((await this.caller.call(DELETE, { keygroup, id, versions: [] }, options)).version.version);
  }

  /** `id` is the decimal uint64 the item is stored under. */
  async append(keygroup: string, id: string, value: string, options?: CallOptions): Promise<void> {
    await this.caller.call(APPEND, { keygroup, id, data: value }, options);
  }

  /** The caller (its certificate's CN) gets every role on the new keygroup. */
  async createKeygroup(keygroup: string, mutable: boolean, expiry = 0, options?: CallOptions): Promise<void> {
    await this.caller.call(CREATE_KEYGROUP, { keygroup, mutable, expiry: String(expiry) }, options);
  }

  close(): void {
    this.caller.close();
  }
}
