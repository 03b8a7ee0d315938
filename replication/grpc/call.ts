// Promise-based unary calls with a deadline over a plain grpc.Client, shared by Enoki's gRPC
// clients; failures become GrpcCallError carrying the status code and the remote address.
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

export interface UnaryClientOptions {
  /** Deadline of each call in milliseconds; 5 s by default. */
  deadlineMs?: number;
  /** Extra channel options (e.g. grpc.ssl_target_name_override, message size limits). */
  channelOptions?: grpc.ChannelOptions;
}

export const DEFAULT_DEADLINE_MS = 5_000;

/** A grpc.Client for one address plus the deadline applied to each call. */
export class UnaryCaller {
  private readonly client: grpc.Client;
  private readonly deadlineMs: number;

  constructor(
    readonly address: string,
    credentials: grpc.ChannelCredentials,
    options: UnaryClientOptions = {},
    defaultChannelOptions: grpc.ChannelOptions = {},
  ) {
    const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    if (!(deadlineMs > 0)) throw new TypeError(`deadlineMs must be positive, got ${deadlineMs}`);
    this.deadlineMs = deadlineMs;
    this.client = new grpc.Client(address, credentials, { ...defaultChannelOptions, ...options.channelOptions });
  }

  call<Req, Res>(method: grpc.MethodDefinition<Req, Res>, request: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + this.deadlineMs },
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
