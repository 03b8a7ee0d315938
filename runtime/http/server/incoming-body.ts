// A request's body read straight from Node's IncomingMessage, within a size limit.

import type { IncomingMessage } from 'node:http';
import { EnokiError } from '../../errors.js';

const EMPTY = new Uint8Array(0);

export interface BodyLimit {
  maxBytes: number;
  /** The first content-length header's value, if any. */
  declared: string | undefined;
  /** Whether the request has a transfer-encoding header. */
  chunked: boolean;
  tooLarge: () => Error;
}

/**
 * The body of a request, at once when there is none to read; one over `maxBytes` fails with
 * `tooLarge()`. `declared` and `chunked` are its content-length and whether it has a
 * transfer-encoding, taken from its raw header list: Node's `incoming.headers` object is built at
 * its first use, which a call would otherwise pay for.
 */
export function readIncomingBody(incoming: IncomingMessage, limit: BodyLimit): Uint8Array | Promise<Uint8Array> {
  const { maxBytes, declared, chunked } = limit;
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(limit.tooLarge());
  if (incoming.readableEnded || (declared === undefined && !chunked) || declared === '0') return EMPTY;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        // The rest is read and dropped so the connection stays usable for the error response.
        incoming.resume();
        reject(limit.tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      resolve(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new EnokiError('ERR_BAD_REQUEST', `the request body could not be read: ${err.message}`));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
  });
}

