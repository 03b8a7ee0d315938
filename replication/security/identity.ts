// What marks a certificate as a node's or a client's, the on-disk layout, and the security errors.
import path from 'node:path';

/*
 * Node certificates carry two marks, both checked by policy.ts:
 *   - subject OU=enoki-node (client certificates have OU=enoki-client), and
 *   - a URI SAN enoki://node/<node id> (clients: enoki://client/<user>).
 * Plus EKU serverAuth + clientAuth. Requiring both marks and that the URI names the same id as
 * the CN means a certificate only counts as a node's if this tooling issued it as one: a client
 * certificate signed by the same CA cannot pass as a node on the peering API (FReD lets it).
 */
export const NODE_OU = 'enoki-node';
export const CLIENT_OU = 'enoki-client';
export const NODE_URI_PREFIX = 'enoki://node/';
export const CLIENT_URI_PREFIX = 'enoki://client/';

export const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
export const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

export const nodeUri = (nodeId: string): string => NODE_URI_PREFIX + nodeId;
export const clientUri = (user: string): string => CLIENT_URI_PREFIX + user;

// Node ids and user names become file names (<name>.pem) and URI path segments, so they are kept
// to characters that need no escaping in either and cannot walk out of the directory.
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function assertCertificateName(what: string, name: string): void {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new SecurityError(
      'ERR_CERT_INVALID_INPUT',
      `${what} ${JSON.stringify(name)} must be 1-64 characters of A-Z a-z 0-9 . _ - and start with a letter or digit`,
    );
  }
  // "ca" would overwrite the CA's files, and "x-key.pem" is already the key file of "x".
  if (name === 'ca' || name.endsWith('-key')) {
    throw new SecurityError('ERR_CERT_INVALID_INPUT', `${what} ${JSON.stringify(name)} is reserved`);
  }
}

export type SecurityErrorCode =
  | 'ERR_CERT_INVALID_INPUT'
  | 'ERR_CERT_EXISTS'
  | 'ERR_CERT_MISSING'
  | 'ERR_CERT_MISMATCH'
  | 'ERR_PEER_NO_CERTIFICATE'
  | 'ERR_PEER_UNVERIFIED'
  | 'ERR_PEER_NOT_NODE'
  | 'ERR_PEER_NO_USER';

export class SecurityError extends Error {
  constructor(
    readonly code: SecurityErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SecurityError';
  }
}

/** File names inside a certificate directory; one place so writers and readers agree. */
export interface CertificatePaths {
  cert: string;
  key: string;
}

export function caPaths(dir: string): CertificatePaths {
  return { cert: path.join(dir, 'ca.pem'), key: path.join(dir, 'ca-key.pem') };
}

export function certificatePaths(dir: string, name: string): CertificatePaths {
  assertCertificateName('certificate name', name);
  return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}-key.pem`) };
}
