// Shared fixtures for the security tests: temporary directories, error-code assertions, a TLS handshake probe.
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import * as assert from 'uvu/assert';
import { verifiedPeerCertificate } from '../../../replication/security/policy.js';

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'enoki-security-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function rejectsCode(fn: () => unknown, code: string, mentions?: string): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    assert.is((error as { code?: string }).code, code, String(error));
    if (mentions) assert.ok((error as Error).message.includes(mentions), (error as Error).message);
    return error as Error;
  }
  return assert.unreachable(`expected ${code}`) as never;
}

export interface HandshakeOutcome {
  /** The server accepted the connection (its 'secureConnection' fired). */
  accepted: boolean;
  /** What the server saw of the client, when accepted. */
  serverSocket?: tls.TLSSocket;
  /** verifiedPeerCertificate() on the server socket, taken while the connection is open. */
  peer?: tls.PeerCertificate;
  peerError?: Error;
  serverError?: Error;
  /** Why the server's TLS layer refused the client certificate (e.g. CERT_HAS_EXPIRED). */
  serverAuthorizationError?: string;
  /** The client read the server's greeting: the connection really carried data both ways. */
  clientGotGreeting: boolean;
  clientError?: Error;
}

/**
 * Runs one TLS connection on 127.0.0.1, port chosen by the OS, and reports both sides. With TLS
 * 1.3 a client can finish its half of the handshake before the server rejects its certificate,
 * so refusal is judged by the server's verdict and by no data getting through, not by the
 * client's 'secureConnect'.
 */
export async function handshake(serverOptions: tls.TlsOptions, clientOptions: tls.ConnectionOptions): Promise<HandshakeOutcome> {
  const outcome: HandshakeOutcome = { accepted: false, clientGotGreeting: false };
  const server = tls.createServer(serverOptions);
  let serverDone!: () => void;
  const serverSettled = new Promise<void>((resolve) => (serverDone = resolve));
  server.on('secureConnection', (socket) => {
    outcome.accepted = true;
    outcome.serverSocket = socket;
    try {
      outcome.peer = verifiedPeerCertificate(socket);
    } catch (err) {
      outcome.peerError = err as Error;
    }
    socket.on('error', () => {});
    socket.end('hello');
    serverDone();
  });
  server.on('tlsClientError', (err, socket) => {
    outcome.serverError = err;
    // Node destroys a socket whose client certificate failed verification without passing the
    // verdict on as the error ("socket hang up"); the verdict stays on the socket.
    if (socket.authorizationError) outcome.serverAuthorizationError = String(socket.authorizationError);
    serverDone();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const clientSettled = new Promise<void>((resolve) => {
      const socket = tls.connect({ ...clientOptions, host: '127.0.0.1', port });
      let data = '';
      socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
      socket.on('error', (err) => (outcome.clientError = err));
      socket.on('close', () => {
        outcome.clientGotGreeting = data === 'hello';
        resolve();
      });
    });
    // A client that refuses the server never makes the server emit anything, so the server side
    // is awaited only briefly once the client has closed.
    await clientSettled;
    await Promise.race([serverSettled, new Promise((r) => setTimeout(r, 500))]);
    return outcome;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
