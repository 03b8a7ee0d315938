// Promise-based unary calls over a plain grpc.Client, the one call helper of Enoki's gRPC clients
// (peer transport, trigger client): a deadline and metadata per client, either overridable per
// call; failures become GrpcCallError carrying the status code and the remote address.
import * as grpc from '@grpc/grpc-js';

export class GrpcCallError extends Error {
  constructor(
    /** The gRPC status code (grpc.status). */
    readonly code: grpc.status,
    /** The address called, as given to the client. */
    readonly address: string,
    /** The method path, e.g. /mcc.fred.peering.Node/PutItem. */
    readonly method: string,
    /** The status message sent by the server (or made by grpc-js). */
    readonly details: string,
  ) {
    super(`${method} on ${address} failed with ${grpc.status[code] ?? code}: ${details}`);
    this.name = 'GrpcCallError';
  }
}

export interface CallOptions {
  /** Deadline in milliseconds; 5 s by default. */
  deadlineMs?: number;
  /** Sent with the call (copied, so a caller may reuse it). */
  metadata?: grpc.Metadata;
}

export interface UnaryClientOptions extends CallOptions {
  /** Extra channel options (e.g. grpc.ssl_target_name_override, message size limits). */
  channelOptions?: grpc.ChannelOptions;
}

export const DEFAULT_DEADLINE_MS = 5_000;

/** Deadlines are checked when configured, so a typo fails at startup rather than on every call. */
export function positiveMs(value: number, what: string): number {
  if (!(value > 0)) throw new TypeError(`${what} must be positive, got ${value}`);
  return value;
}

/** A grpc.Client (one channel) for one address plus the defaults applied to each call. */
export class UnaryCaller {
  private readonly client: grpc.Client;
  private readonly deadlineMs: number;
  private readonly metadata: grpc.Metadata;

  constructor(
    readonly address: string,
    credentials: grpc.ChannelCredentials,
    options: UnaryClientOptions = {},
    defaultChannelOptions: grpc.ChannelOptions = {},
  ) {
    this.deadlineMs = positiveMs(options.deadlineMs ?? DEFAULT_DEADLINE_MS, 'deadlineMs');
    this.metadata = options.metadata ?? new grpc.Metadata();
    this.client = new grpc.Client(address, credentials, { ...defaultChannelOptions, ...options.channelOptions });
  }

  call<Req, Res>(method: grpc.MethodDefinition<Req, Res>, request: Req, options: CallOptions = {}): Promise<Res> {
    const deadlineMs = options.deadlineMs === undefined ? this.deadlineMs : positiveMs(options.deadlineMs, 'deadlineMs');
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        // Each call gets its own copy: the client's metadata is shared by all of its calls.
        (options.metadata ?? this.metadata).clone(),
        { deadline: Date.now() + deadlineMs },
        (error, response) => {
          if (error) reject(new GrpcCallError(error.code, this.address, method.path, error.details));
          else resolve(response as Res);
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
