// The node's HTTP server adapter: Node's request and response on one side, Hono's fetch handler
// on the other. Text and byte bodies go to the socket as they are; stream bodies with backpressure.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { EnokiError, toEnokiError } from '../../errors.js';
import { FetchResponse, TEXT, type RawBody } from './fetch-response.js';
import { NodeRequest } from './node-request.js';

/** What Hono's fetch handler gets as its env: the node's request and response themselves. */
export interface NodeEnv {
  incoming: IncomingMessage;
  outgoing: ServerResponse;
}

export type FetchHandler = (request: Request, env: NodeEnv) => Response | Promise<Response>;
type NodeHeaders = Record<string, string | string[]>;

/**
 * A listener for http(s).createServer that answers each request with `fetch`. `onError` hears of
 * what went wrong after the handler (a response that could not be written); the client then gets
 * a 500 if nothing was sent yet, or a closed connection.
 */
export function requestListener(fetch: FetchHandler, onError: (err: unknown) => void): (incoming: IncomingMessage, outgoing: ServerResponse) => void {
  const fail = (outgoing: ServerResponse, err: unknown) => {
    onError(err);
    if (outgoing.headersSent) outgoing.destroy();
    else writeError(outgoing, new EnokiError('ERR_INTERNAL', 'the response could not be written'));
  };
  return (incoming, outgoing) => {
    let request: NodeRequest;
    try {
      request = new NodeRequest(incoming, outgoing);
    } catch (err) {
      writeError(outgoing, toEnokiError(err));
      return;
    }
    try {
      const result = fetch(request as unknown as Request, { incoming, outgoing });
      // Most responses are ready at once and written in this turn.
      const written = result instanceof Promise ? result.then((response) => writeResponse(response, outgoing)) : writeResponse(result, outgoing);
      if (written) written.catch((err: unknown) => fail(outgoing, err));
    } catch (err) {
      fail(outgoing, err);
    }
  };
}

function writeError(outgoing: ServerResponse, error: EnokiError): void {
  const body = JSON.stringify(error.toJSON());
  outgoing.writeHead(error.status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-enoki-error-code': error.code,
  });
  outgoing.end(body);
}

function nodeHeaders(headers: Headers): NodeHeaders {
  const out: NodeHeaders = {};
  for (const [name, value] of headers) {
    if (name === 'set-cookie') ((out[name] ??= []) as string[]).push(value);
    else out[name] = value;
  }
  return out;
}

function writeResponse(response: Response | FetchResponse, outgoing: ServerResponse): Promise<void> | undefined {
  let headers: NodeHeaders;
  let body: RawBody;
  if (response instanceof FetchResponse) {
    headers = response.nodeHeaders();
    body = response.takeRawBody();
  } else {
    // Another implementation's Response (one that fetch() returned, say).
    headers = nodeHeaders(response.headers);
    body = response.body;
  }
  // A body without a content type is sent as text, as the node always did.
  if (body !== null && headers['content-type'] === undefined) headers['content-type'] = TEXT;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const length = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    if (headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) headers['content-length'] = String(length);
    outgoing.writeHead(response.status, headers);
    outgoing.end(body);
    return undefined;
  }
  if (body === null) {
    outgoing.writeHead(response.status, headers);
    outgoing.end();
    return undefined;
  }
  if (body instanceof Blob) {
    return body.arrayBuffer().then((bytes) => {
      headers['content-length'] ??= String(bytes.byteLength);
      outgoing.writeHead(response.status, headers);
      outgoing.end(new Uint8Array(bytes));
    });
  }
  outgoing.writeHead(response.status, headers);
  // The head goes out now: a streamed response's client sees it before the first chunk is ready.
  outgoing.flushHeaders();
  return pipe(body, outgoing);
}

/**
 * Writes a stream to the response, waiting for the socket to drain when it is full. A client that
 * goes away cancels the stream (its source lets go of what it holds); a stream that fails midway
 * closes the connection, so that the client sees a cut-off response, not a whole one.
 */
async function pipe(stream: ReadableStream<Uint8Array>, outgoing: ServerResponse): Promise<void> {
  const reader = stream.getReader();
  const onClose = () => {
    if (!outgoing.writableFinished) reader.cancel().catch(() => undefined);
  };
  outgoing.once('close', onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (outgoing.destroyed) return;
      if (!outgoing.write(value)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            outgoing.off('drain', go);
            outgoing.off('close', go);
            resolve();
          };
          outgoing.once('drain', go);
          outgoing.once('close', go);
        });
      }
    }
    outgoing.end();
  } catch {
    outgoing.destroy();
  } finally {
    outgoing.off('close', onClose);
  }
}
