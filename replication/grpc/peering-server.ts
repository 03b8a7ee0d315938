// Serves FReD's peering service (mcc.fred.peering.Node): validates and converts each wire message,
// identifies the calling peer from its TLS certificate, and hands the call to a PeeringHandler.
import * as grpc from '@grpc/grpc-js';
import { StoreError } from '../store/port.js';
import { validateAppendId, validateId, validateKeygroupName } from '../store/version.js';
import type { PeerIdentity, PeerItem, PeeringHandler } from './peering-handler.js';
import type {
  WireAppendItemRequest,
  WireCreateKeygroupRequest,
  WireData,
  WireDataResponse,
  WireEmpty,
  WireItemRequest,
  WireKeygroupRequest,
  WirePutItemRequest,
} from './protos.js';
import { toServiceError } from './status.js';
import { nonNegativeInt64FromWire, versionFromWire, versionToWire } from './wire.js';

export { peeringService } from './protos.js';

/**
 * grpc-js refuses incoming messages above 4 MiB by default, but a PutItem may carry a value of the
 * store's default maximum (4 MiB) plus framing. Pass these to `new grpc.Server(...)` (or larger
 * limits if the store accepts larger values).
 */
export const PEERING_SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
};

export interface PeeringServiceOptions {
  /**
   * Called with errors that had no known code (answered INTERNAL without their text, which may
   * expose host details): the composition root logs them here.
   */
  onInternalError?: (error: unknown, method: string, peer: PeerIdentity) => void;
}

type Call<Req> = grpc.ServerUnaryCall<Req, unknown>;

/** The implementation to register with `server.addService(peeringService, ...)`. */
export function createPeeringService(
  handler: PeeringHandler,
  options: PeeringServiceOptions = {},
): grpc.UntypedServiceImplementation {
  // A reporter that throws must not turn a failed call into a crashed node either.
  const report = (error: unknown, method: string, peer: PeerIdentity) => {
    try {
      options.onInternalError?.(error, method, peer);
    } catch {
      // Nothing left to tell: the caller already has its status.
    }
  };

  const unary =
    <Req, Res>(method: string, run: (request: Req, peer: PeerIdentity) => Promise<Res>): grpc.handleUnaryCall<Req, Res> =>
    (call, callback) => {
      // Everything, parsing included, runs inside the promise: a throwing or rejecting handler
      // becomes a status for this call and never an unhandled rejection that ends the process.
      let peer: PeerIdentity = { address: 'unknown' };
      void (async () => {
        let response: Res;
        try {
          peer = peerIdentity(call);
          response = await run(call.request, peer);
        } catch (error) {
          const status = toServiceError(error, method);
          if (status.code === grpc.status.INTERNAL) report(error, method, peer);
          callback(status);
          return;
        }
        callback(null, response);
      })().catch((error: unknown) => report(error, method, peer));
    };

  return {
    CreateKeygroup: unary<WireCreateKeygroupRequest, WireEmpty>('CreateKeygroup', async (req, peer) => {
      validateKeygroupName(req.keygroup);
      const expiry = nonNegativeInt64FromWire(req.expiry, 'expiry');
      await handler.createKeygroup({ keygroup: req.keygroup, expiry }, peer);
      return {};
    }),

    DeleteKeygroup: unary<WireKeygroupRequest, WireEmpty>('DeleteKeygroup', async (req, peer) => {
      validateKeygroupName(req.keygroup);
      await handler.deleteKeygroup({ keygroup: req.keygroup }, peer);
      return {};
    }),

    PutItem: unary<WirePutItemRequest, WireEmpty>('PutItem', async (req, peer) => {
      validateKeygroupName(req.keygroup);
      validateId(req.id);
      const version = versionFromWire(req.version);
      const tombstone = req.tombstoned === true;
      // A tombstone's value means nothing; a live value must be non-empty ('' marks deletion).
      if (!tombstone && req.val === '') throw new StoreError('ERR_INVALID_VALUE', 'invalid value: empty but not tombstoned');
      await handler.putItem({ keygroup: req.keygroup, id: req.id, value: tombstone ? '' : req.val, tombstone, version }, peer);
      return {};
    }),

    AppendItem: unary<WireAppendItemRequest, WireEmpty>('AppendItem', async (req, peer) => {
      validateKeygroupName(req.keygroup);
      validateAppendId(req.id);
      if (req.data === '') throw new StoreError('ERR_INVALID_VALUE', 'invalid value: must not be empty');
      await handler.appendItem({ keygroup: req.keygroup, id: req.id, value: req.data }, peer);
      return {};
    }),

    GetItem: unary<WireItemRequest, WireDataResponse>('GetItem', async (req, peer) => {
      validateKeygroupName(req.keygroup);
      validateId(req.id);
      return { data: (await handler.getItem({ keygroup: req.keygroup, id: req.id }, peer)).map(toWireData) };
    }),

    GetAllItems: unary<WireKeygroupRequest, WireDataResponse>('GetAllItems', async (req, peer) => {
      validateKeygroupName(req.keygroup);
      return { data: (await handler.getAllItems({ keygroup: req.keygroup }, peer)).map(toWireData) };
    }),
  };
}

function toWireData(item: PeerItem): WireData {
  let version;
  try {
    version = versionToWire(item.version);
  } catch (error) {
    // The handler's fault, not the caller's: an Error without a code is answered INTERNAL.
    throw new Error(`handler returned item ${item.id} with ${(error as Error).message}`);
  }
  // FReD's Data has no tombstone flag: an empty val is how a tombstone travels.
  return { id: item.id, val: item.tombstone ? '' : item.value, version };
}

/**
 * grpc-js's getAuthContext() reports the client certificate only when the TLS handshake verified
 * it (socket.authorized), so a CN read from it is authenticated. A certificate with several CN
 * attributes names no single peer and yields no commonName.
 */
export function peerIdentity(call: Call<unknown>): PeerIdentity {
  const identity: PeerIdentity = { address: call.getPeer() };
  const certificate = call.getAuthContext?.().sslPeerCertificate;
  if (certificate) {
    identity.certificate = certificate;
    const cn = certificate.subject?.CN;
    if (typeof cn === 'string' && cn !== '') identity.commonName = cn;
  }
  return identity;
}
