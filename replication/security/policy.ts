// What a TLS-verified peer may do (peer as a node, act as a user), and mTLS credentials from a certificate directory.
import * as grpc from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BlockList, isIP } from 'node:net';
import tls from 'node:tls';
import {
  CLIENT_OU,
  CLIENT_URI_PREFIX,
  NODE_OU,
  OID_CLIENT_AUTH,
  OID_SERVER_AUTH,
  SecurityError,
  type SecurityErrorCode,
  caPaths,
  certificatePaths,
  nodeUri,
} from './identity.js';

/*
 * The checks below read a certificate's contents only. They assume TLS has already verified the
 * chain to the cluster CA and the validity dates: every server built from these helpers requires
 * and verifies client certificates, and `verifiedPeerCertificate` refuses unverified sockets.
 */

/** `tls.PeerCertificate` (also what grpc-js's auth context holds) or Node's `X509Certificate`. */
export type CertificateLike = tls.PeerCertificate | X509Certificate;

export type Rejection = { ok: false; code: SecurityErrorCode; reason: string };
export type NodeCheck = { ok: true; nodeId: string } | Rejection;
export type UserCheck = { ok: true; user: string; kind: 'node' | 'client' } | Rejection;

/** Only a certificate issued as a node's passes: OU=enoki-node, URI SAN enoki://node/<CN>, EKU serverAuth + clientAuth. */
export function checkNodeCertificate(cert: CertificateLike | null | undefined): NodeCheck {
  const fields = readFields(cert);
  if (!fields) return reject('ERR_PEER_NO_CERTIFICATE', 'peer presented no certificate');
  const { cn, ous, uris, usages } = fields;
  if (!cn) return reject('ERR_PEER_NOT_NODE', 'certificate has no single common name');
  if (!ous.includes(NODE_OU)) {
    return reject('ERR_PEER_NOT_NODE', `certificate ${cn} is not a node certificate (no OU=${NODE_OU})`);
  }
  if (ous.includes(CLIENT_OU)) return reject('ERR_PEER_NOT_NODE', `certificate ${cn} is marked both node and client`);
  const marks = uris.filter((u) => u.startsWith('enoki://'));
  if (marks.length !== 1 || marks[0] !== nodeUri(cn)) {
    return reject('ERR_PEER_NOT_NODE', `certificate ${cn} lacks the URI SAN ${nodeUri(cn)} (has ${marks.join(', ') || 'none'})`);
  }
  if (!usages.includes(OID_SERVER_AUTH) || !usages.includes(OID_CLIENT_AUTH)) {
    return reject('ERR_PEER_NOT_NODE', `certificate ${cn} lacks extended key usage serverAuth + clientAuth`);
  }
  return { ok: true, nodeId: cn };
}

/**
 * The node id a certificate in FReD's format would name: its CN, when it carries none of Enoki's
 * marks (OU enoki-node/enoki-client, enoki:// URI SANs) and is good for both server and client
 * authentication (FReD's scripts give serverAuth + clientAuth; no extended key usage at all
 * means any use). FReD's node and client certificates look alike, so the CN alone does not make
 * it a node's: callers accept it only for a node id they expect (the node they dialled, or one
 * registered in the naming service).
 */
export function fredFormatNodeId(cert: CertificateLike | null | undefined): string | undefined {
  const fields = readFields(cert);
  if (!fields?.cn) return undefined;
  const { cn, ous, uris, usages } = fields;
  if (ous.includes(NODE_OU) || ous.includes(CLIENT_OU) || uris.some((u) => u.startsWith('enoki://'))) return undefined;
  if (usages.length > 0 && !(usages.includes(OID_SERVER_AUTH) && usages.includes(OID_CLIENT_AUTH))) return undefined;
  return cn;
}

/**
 * Whether a certificate names `address` (a client's source IP) as an IP SAN: what FReD's client
 * API requires of every client. IPv4-mapped IPv6 addresses count as their IPv4 form.
 */
export function certificateCoversAddress(cert: CertificateLike | null | undefined, address: string): boolean {
  const fields = readFields(cert);
  if (!fields) return false;
  const ip = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  const family = isIP(ip);
  if (family === 0) return false;
  return fields.ips.some((san) => {
    const sanFamily = isIP(san);
    if (sanFamily === 0) return false;
    const list = new BlockList();
    list.addAddress(san, sanFamily === 4 ? 'ipv4' : 'ipv6');
    return list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  });
}

/** The IP of a grpc-js call's peer ("1.2.3.4:port", "::1:port"), without the port. */
export function callerAddress(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, '');
  const cut = bare.lastIndexOf(':');
  const host = cut > 0 && /^\d+$/.test(bare.slice(cut + 1)) ? bare.slice(0, cut) : bare;
  return host.replace(/^\[|\]$/g, '');
}

export function isNodeCertificate(cert: CertificateLike | null | undefined): boolean {
  return checkNodeCertificate(cert).ok;
}

/** The node id of a node certificate; throws SecurityError ERR_PEER_NOT_NODE (or NO_CERTIFICATE) with the reason. */
export function nodeIdOf(cert: CertificateLike | null | undefined): string {
  const check = checkNodeCertificate(cert);
  if (!check.ok) throw new SecurityError(check.code, check.reason);
  return check.nodeId;
}

/**
 * The user a certificate acts as on the client API: its CN. Node certificates are users too (a
 * node uses one certificate everywhere, as in FReD), reported as kind 'node' so callers can tell.
 * A certificate that carries our marks must carry them consistently.
 */
export function checkUser(cert: CertificateLike | null | undefined): UserCheck {
  const fields = readFields(cert);
  if (!fields) return reject('ERR_PEER_NO_CERTIFICATE', 'peer presented no certificate');
  const { cn, ous, uris, usages } = fields;
  if (!cn) return reject('ERR_PEER_NO_USER', 'certificate has no single common name to use as user name');
  if (!usages.includes(OID_CLIENT_AUTH)) {
    return reject('ERR_PEER_NO_USER', `certificate ${cn} lacks extended key usage clientAuth`);
  }
  if (ous.includes(NODE_OU)) {
    const node = checkNodeCertificate(cert);
    return node.ok ? { ok: true, user: cn, kind: 'node' } : reject('ERR_PEER_NO_USER', node.reason);
  }
  const marks = uris.filter((u) => u.startsWith('enoki://'));
  if (marks.some((u) => u !== CLIENT_URI_PREFIX + cn)) {
    return reject('ERR_PEER_NO_USER', `certificate ${cn} has a URI SAN naming someone else (${marks.join(', ')})`);
  }
  return { ok: true, user: cn, kind: 'client' };
}

/** The user name (CN) for the client API; throws SecurityError with the reason when there is none. */
export function userOf(cert: CertificateLike | null | undefined): string {
  const check = checkUser(cert);
  if (!check.ok) throw new SecurityError(check.code, check.reason);
  return check.user;
}

/** The peer certificate of a server-side socket, only if TLS verified it against the CA. */
export function verifiedPeerCertificate(socket: tls.TLSSocket): tls.PeerCertificate {
  if (!socket.authorized) {
    const why = String(socket.authorizationError ?? 'none presented');
    throw new SecurityError('ERR_PEER_UNVERIFIED', `peer certificate not verified: ${why}`);
  }
  const cert = socket.getPeerCertificate();
  if (!readFields(cert)) throw new SecurityError('ERR_PEER_NO_CERTIFICATE', 'peer presented no certificate');
  return cert;
}

/** The verified peer certificate of a grpc-js call (server or client side), if any. */
export function certificateOfCall(call: {
  getAuthContext(): { sslPeerCertificate?: tls.PeerCertificate } | null;
}): tls.PeerCertificate | undefined {
  return call.getAuthContext()?.sslPeerCertificate;
}

// --- credentials ---------------------------------------------------------------------------------

export interface TlsMaterial {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** Reads ca.pem, <name>.pem and <name>-key.pem from a certificate directory. */
export async function readTlsMaterial(dir: string, name: string): Promise<TlsMaterial> {
  const own = certificatePaths(dir, name);
  // One after another, so a directory missing several files always names the CA first.
  const ca = await readRequired(caPaths(dir).cert);
  const cert = await readRequired(own.cert);
  const key = await readRequired(own.key);
  return { ca, cert, key };
}

/** grpc-js server credentials that require a client certificate signed by the cluster CA. */
export async function serverCredentials(dir: string, name: string): Promise<grpc.ServerCredentials> {
  const { ca, cert, key } = await readTlsMaterial(dir, name);
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], true);
}

export interface ClientCredentialOptions {
  /** Also require the server to present this node id. */
  serverNodeId?: string;
  /** Accept a server whose certificate is CA-signed but not a node's (e.g. etcd). Off by default. */
  allowNonNodeServer?: boolean;
}

/**
 * grpc-js channel credentials presenting <name>'s certificate and trusting only the cluster CA.
 * The server's hostname is always checked against its SANs; by default it must also be a node.
 */
export async function clientCredentials(
  dir: string,
  name: string,
  options: ClientCredentialOptions = {},
): Promise<grpc.ChannelCredentials> {
  const { ca, cert, key } = await readTlsMaterial(dir, name);
  return grpc.credentials.createSsl(ca, key, cert, { checkServerIdentity: serverIdentityCheck(options) });
}

/** Options for a node:tls / node:https server: client certificates required and verified. */
export function tlsServerOptions(material: TlsMaterial): tls.TlsOptions {
  return { ...material, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' };
}

/** Options for a node:tls client trusting only the cluster CA, with the same server check as gRPC. */
export function tlsClientOptions(material: TlsMaterial, options: ClientCredentialOptions = {}): tls.ConnectionOptions {
  return { ...material, rejectUnauthorized: true, minVersion: 'TLSv1.2', checkServerIdentity: serverIdentityCheck(options) };
}

// grpc-js hands a custom checkServerIdentity to tls.connect in place of the default one, so the
// hostname check must be run here explicitly or it would be lost.
function serverIdentityCheck(options: ClientCredentialOptions) {
  return (hostname: string, cert: tls.PeerCertificate): Error | undefined => {
    const hostError = tls.checkServerIdentity(hostname, cert);
    if (hostError) return hostError;
    if (options.allowNonNodeServer && options.serverNodeId === undefined) return undefined;
    const node = checkNodeCertificate(cert);
    // A node dialled by id may present a certificate in FReD's format naming that id.
    if (!node.ok && options.serverNodeId !== undefined && fredFormatNodeId(cert) === options.serverNodeId) return undefined;
    if (!node.ok) return new SecurityError(node.code, `server ${hostname}: ${node.reason}`);
    if (options.serverNodeId !== undefined && node.nodeId !== options.serverNodeId) {
      const expected = options.serverNodeId;
      return new SecurityError('ERR_PEER_NOT_NODE', `server ${hostname} is node ${node.nodeId}, expected ${expected}`);
    }
    return undefined;
  };
}

async function readRequired(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SecurityError('ERR_CERT_MISSING', `missing ${file}`);
    throw err;
  }
}

// --- reading certificate fields ------------------------------------------------------------------

interface Fields {
  cn: string | undefined;
  ous: string[];
  uris: string[];
  ips: string[];
  usages: string[];
}

function readFields(input: CertificateLike | null | undefined): Fields | undefined {
  if (!input) return undefined;
  // One code path for both shapes: X509Certificate's legacy object is exactly tls.PeerCertificate.
  const cert = input instanceof X509Certificate ? input.toLegacyObject() : input;
  // tls returns {} (or an object without subject) when the peer sent no certificate.
  if (!cert.subject || Object.keys(cert).length === 0) return undefined;
  const cn = values(cert.subject.CN);
  return {
    // Several CNs would make "the" identity ambiguous; treat that as none.
    cn: cn.length === 1 && cn[0] !== '' ? cn[0] : undefined,
    ous: values(cert.subject.OU),
    uris: subjectAltNames(cert.subjectaltname).filter((n) => n.type === 'URI').map((n) => n.value),
    ips: subjectAltNames(cert.subjectaltname).filter((n) => n.type === 'IP Address').map((n) => n.value),
    usages: cert.ext_key_usage ?? [],
  };
}

// Node gives a multi-valued attribute as an array, a single one as a string.
function values(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

// Node's format: "DNS:a, IP Address:1.2.3.4, URI:x"; a value containing a comma or quote is
// JSON-quoted, so a crafted name cannot smuggle in a second entry.
function subjectAltNames(text: string | undefined): { type: string; value: string }[] {
  const out: { type: string; value: string }[] = [];
  if (!text) return out;
  const entry = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (let m = entry.exec(text); m; m = entry.exec(text)) {
    const raw = m[2];
    out.push({ type: m[1], value: raw.startsWith('"') ? (JSON.parse(raw) as string) : raw });
  }
  return out;
}

function reject(code: SecurityErrorCode, reason: string): Rejection {
  return { ok: false, code, reason };
}
