// The node's one peering server: serves the replication engine (its PeerHandler) over gRPC as
// FReD's peering service mcc.fred.peering.Node (with Enoki's age extension) and Enoki's
// AntiEntropy, on one server, to callers identified by a node certificate. FReD nodes and Enoki
// nodes call the same service; engine-wire.ts validates what they send.
import * as grpc from '@grpc/grpc-js';
import { silentLogger, type ReplicationLogger } from '../engine/logger.js';
import type { PeerHandler } from '../engine/transport.js';
import { SecurityError } from '../security/identity.js';
import { certificateOfCall, checkNodeCertificate, fredFormatNodeId } from '../security/policy.js';
import { isValidNodeId, validateId, validateKeygroupName } from '../store/version.js';
import {
  appendItemFromWire,
  createKeygroupFromWire,
  digestRequestFromWire,
  digestResponseToWire,
  INSECURE_PEER_HEADER,
  itemDataToWire,
  putItemFromWire,
} from './engine-wire.js';
import {
  antiEntropyService,
  peeringService,
  type WireAppendItemRequest,
  type WireCreateKeygroupRequest,
  type WireDataResponse,
  type WireDigestRequest,
  type WireDigestResponse,
  type WireEmpty,
  type WireItemRequest,
  type WireKeygroupRequest,
  type WirePutItemRequest,
} from './protos.js';
import { toServiceError } from './status.js';

export { INSECURE_PEER_HEADER };

export interface EnginePeeringOptions {
  logger?: ReplicationLogger;
  /**
   * Tests and local development only: take the caller's node id from the INSECURE_PEER_HEADER
   * metadata header instead of its certificate, so anyone who can connect can claim to be any
   * node. Never the default; a server made with it says so in its log.
   */
  insecureTrustPeerHeader?: boolean;
  /**
   * Whether `nodeId` is a node of the cluster (registered in the naming service). Given, a
   * caller with a certificate in FReD's format (policy.ts fredFormatNodeId) is accepted as the
   * node its CN names if this says so; without it only Enoki node certificates may peer.
   */
  isClusterNode?: (nodeId: string) => boolean | Promise<boolean>;
}

/**
 * grpc-js refuses incoming messages above 4 MiB by default, but a PutItem may carry a value of the
 * store's default maximum (4 MiB) plus framing. startPeeringServer uses these, merged under its
 * serverOptions (pass larger limits if the store accepts larger values).
 */
export const PEERING_SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
};

type IdentifiableCall = grpc.ServerUnaryCall<unknown, unknown>;

/**
 * The node id of the caller. FReD accepts any certificate signed by the cluster CA, so a client
 * certificate could write replicas directly and bypass roles; here only a certificate issued as
 * a node's (policy.ts), or one in FReD's format naming a registered node, may use the peering
 * API. grpc-js reports a certificate only when TLS verified it against the CA.
 */
export async function callerNodeId(call: IdentifiableCall, options: EnginePeeringOptions = {}): Promise<string> {
  if (options.insecureTrustPeerHeader === true) {
    const claimed = call.metadata.get(INSECURE_PEER_HEADER);
    if (claimed.length !== 1 || !isValidNodeId(claimed[0])) {
      throw new SecurityError('ERR_PEER_UNVERIFIED', `insecure peering: expected one ${INSECURE_PEER_HEADER} header naming a node`);
    }
    return claimed[0];
  }
  const cert = certificateOfCall(call);
  const check = checkNodeCertificate(cert);
  if (check.ok) return check.nodeId;
  // FReD's own certificates carry no node mark: its CN must name a registered node.
  const fredNode = options.isClusterNode ? fredFormatNodeId(cert) : undefined;
  if (fredNode !== undefined && isValidNodeId(fredNode) && (await options.isClusterNode!(fredNode))) return fredNode;
  throw new SecurityError(check.code, `the peering API is for cluster nodes only: ${check.reason}`);
}

export interface EnginePeeringServices {
  /** Register with `server.addService(peeringService, node)`. */
  node: grpc.UntypedServiceImplementation;
  /** Register with `server.addService(antiEntropyService, antiEntropy)`. */
  antiEntropy: grpc.UntypedServiceImplementation;
}

/** Both service implementations for one handler; startPeeringServer registers them for you. */
export function createEnginePeeringServices(handler: PeerHandler, options: EnginePeeringOptions = {}): EnginePeeringServices {
  const logger = options.logger ?? silentLogger;

  const unary =
    <Req, Res>(method: string, run: (request: Req, from: string) => Promise<Res>): grpc.handleUnaryCall<Req, Res> =>
    (call, callback) => {
      // Everything, identification and parsing included, runs inside the promise: a throwing
      // handler becomes a status for this call, never an unhandled rejection ending the process.
      let from: string | undefined;
      void (async () => {
        let response: Res;
        try {
          // Identify first: a caller that may not peer learns nothing, not even what is malformed.
          from = await callerNodeId(call as IdentifiableCall, options);
          response = await run(call.request, from);
        } catch (error) {
          const status = toServiceError(error, method);
          const fields = { method, peer: from ?? call.getPeer(), err: error };
          if (status.code === grpc.status.INTERNAL) logger.error(fields, 'peering call failed');
          else logger.debug({ ...fields, status: grpc.status[status.code!] }, 'peering call refused');
          callback(status);
          return;
        }
        callback(null, response);
      })().catch((error: unknown) => logger.error({ method, err: error }, 'peering call not answered'));
    };

  const node: grpc.UntypedServiceImplementation = {
    CreateKeygroup: unary<WireCreateKeygroupRequest, WireEmpty>('CreateKeygroup', async (req, from) => {
      await handler.handle(from, createKeygroupFromWire(req));
      return {};
    }),
    DeleteKeygroup: unary<WireKeygroupRequest, WireEmpty>('DeleteKeygroup', async (req, from) => {
      validateKeygroupName(req.keygroup);
      await handler.handle(from, { type: 'deleteKeygroup', keygroup: req.keygroup });
      return {};
    }),
    PutItem: unary<WirePutItemRequest, WireEmpty>('PutItem', async (req, from) => {
      await handler.handle(from, putItemFromWire(req));
      return {};
    }),
    AppendItem: unary<WireAppendItemRequest, WireEmpty>('AppendItem', async (req, from) => {
      await handler.handle(from, appendItemFromWire(req));
      return {};
    }),
    GetItem: unary<WireItemRequest, WireDataResponse>('GetItem', async (req, from) => {
      validateKeygroupName(req.keygroup);
      validateId(req.id);
      return { data: (await handler.getItem(from, { keygroup: req.keygroup, id: req.id })).map(itemDataToWire) };
    }),
    GetAllItems: unary<WireKeygroupRequest, WireDataResponse>('GetAllItems', async (req, from) => {
      validateKeygroupName(req.keygroup);
      return { data: (await handler.getAllItems(from, { keygroup: req.keygroup })).map(itemDataToWire) };
    }),
  };

  const antiEntropy: grpc.UntypedServiceImplementation = {
    ExchangeDigest: unary<WireDigestRequest, WireDigestResponse>('ExchangeDigest', async (req, from) =>
      digestResponseToWire(await handler.exchangeDigest(from, digestRequestFromWire(req))),
    ),
  };

  return { node, antiEntropy };
}

export interface PeeringServerOptions extends EnginePeeringOptions {
  /** Interface to listen on, e.g. '0.0.0.0', '127.0.0.1' or '::'. */
  host: string;
  /** 0 lets the OS choose; the chosen port is in the result. */
  port: number;
  /** Normally serverCredentials(certDir, nodeId) from security/policy.ts (client certificates required). */
  credentials: grpc.ServerCredentials;
  /** The node's ReplicationEngine. */
  handler: PeerHandler;
  /** Merged over PEERING_SERVER_OPTIONS (message size limits). */
  serverOptions?: grpc.ServerOptions;
  /** How long close() lets running calls finish before cutting them. Default 2 s. */
  shutdownGraceMs?: number;
}

export interface PeeringServer {
  readonly port: number;
  /** Stops accepting calls, waits for running ones (at most shutdownGraceMs); idempotent. */
  close(): Promise<void>;
}

/** Serves FReD peering and Enoki anti-entropy for one engine on one grpc.Server. */
export async function startPeeringServer(options: PeeringServerOptions): Promise<PeeringServer> {
  const logger = options.logger ?? silentLogger;
  const server = new grpc.Server({ ...PEERING_SERVER_OPTIONS, ...options.serverOptions });
  const services = createEnginePeeringServices(options.handler, options);
  server.addService(peeringService, services.node);
  server.addService(antiEntropyService, services.antiEntropy);

  // IPv6 literals need brackets in a host:port target.
  const host = options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host}:${options.port}`, options.credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
    );
  } catch (error) {
    server.forceShutdown();
    throw error;
  }
  if (options.insecureTrustPeerHeader === true) {
    logger.warn({ host: options.host, port }, `peering trusts the ${INSECURE_PEER_HEADER} header: any caller can act as any node (tests and local development only)`);
  }
  logger.info({ host: options.host, port }, 'peering server listening');

  const graceMs = options.shutdownGraceMs ?? 2_000;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    }));
  return { port, close };
}
