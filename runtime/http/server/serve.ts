// Starts the node's HTTP(S) server on the adapter of this folder.

import type { Server } from 'node:http';
import https from 'node:https';
import { installFetchGlobals } from './fetch-globals.js';
import { requestListener, type FetchHandler } from './listener.js';
import http from '../../node-http.js';

export interface ServeOptions {
  port: number;
  hostname: string;
  /** Serve HTTPS with these options (certificates, client certificate checks). */
  tls?: https.ServerOptions;
  /** Hears of responses that could not be written. */
  onError: (err: unknown) => void;
}

/** A listening server; rejects when the port cannot be bound. */
export function serveHttp(fetch: FetchHandler, options: ServeOptions): Promise<Server> {
  installFetchGlobals();
  const listener = requestListener(fetch, options.onError);
  const server: Server = options.tls ? https.createServer(options.tls, listener) : http.createServer(listener);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.hostname, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
