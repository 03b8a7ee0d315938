// Creates the cluster CA and the node and client certificates it signs (ECDSA P-256, PEM), in pure Node.

// tsyringe, which @peculiar/x509 uses internally, refuses to load without the Reflect metadata
// polyfill; ESM evaluates imports in order, so this must stay above the x509 import.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import {
  CLIENT_OU,
  NODE_OU,
  OID_CLIENT_AUTH,
  OID_SERVER_AUTH,
  SecurityError,
  assertCertificateName,
  caPaths,
  certificatePaths,
  clientUri,
  nodeUri,
} from './identity.js';

export interface CertificateAuthority {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface IssuedCertificate {
  /** Node id or user name; also the file name stem in a certificate directory. */
  readonly name: string;
  readonly kind: 'node' | 'client';
  readonly certPem: string;
  readonly keyPem: string;
}

export interface Validity {
  /** Length of validity counted from notBefore. */
  days?: number;
  /** Start of validity; tests pass a past date to get an expired certificate. */
  notBefore?: Date;
}

export const DEFAULT_CA_DAYS = 3650;
export const DEFAULT_LEAF_DAYS = 365;
// Certificates start a little in the past so a peer whose clock runs behind ours accepts them at once.
const CLOCK_SKEW_MS = 5 * 60_000;
const DAY_MS = 86_400_000;

// Names are built from explicit utf8String values: x509's plain-string form mangles values
// containing quotes (CN `a "q"` came out as `q`).
// Node's webcrypto is passed explicitly instead of setting x509's global provider, so importing
// this module changes nothing global beyond the Reflect polyfill.
const crypto = webcrypto as unknown as Crypto;
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' };

export async function createCa(options: { commonName: string } & Validity): Promise<CertificateAuthority> {
  if (typeof options.commonName !== 'string' || options.commonName.trim() === '') {
    throw new SecurityError('ERR_CERT_INVALID_INPUT', 'CA commonName must be a non-empty string');
  }
  const { notBefore, notAfter } = validity(options, DEFAULT_CA_DAYS);
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: new x509.Name([{ CN: [{ utf8String: options.commonName }] }]),
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        // pathLength 0: the CA signs node and client certificates only, never another CA.
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { certPem: cert.toString('pem'), keyPem: await exportKey(keys.privateKey) };
}

export async function issueNodeCertificate(
  ca: CertificateAuthority,
  options: { nodeId: string; hosts: string[] } & Validity,
): Promise<IssuedCertificate> {
  assertCertificateName('node id', options.nodeId);
  if (!Array.isArray(options.hosts) || options.hosts.length === 0) {
    // Peers verify the server's address against the SANs; a node certificate without any is unusable.
    throw new SecurityError('ERR_CERT_INVALID_INPUT', `node ${options.nodeId}: hosts must list at least one IP or DNS name`);
  }
  const hostNames = options.hosts.map((host) => hostName(options.nodeId, host));
  return issue(ca, {
    name: options.nodeId,
    kind: 'node',
    ou: NODE_OU,
    usages: [OID_SERVER_AUTH, OID_CLIENT_AUTH],
    altNames: [...hostNames, { type: 'url', value: nodeUri(options.nodeId) }],
    validity: options,
  });
}

/**
 * `hosts`: the addresses the client connects from. FReD's client API (and Enoki's, unless told
 * otherwise) accepts a client only from an address its certificate names as an IP SAN.
 */
export async function issueClientCertificate(
  ca: CertificateAuthority,
  options: { user: string; hosts?: string[] } & Validity,
): Promise<IssuedCertificate> {
  assertCertificateName('user', options.user);
  const hostNames = (options.hosts ?? []).map((host) => hostName(options.user, host));
  return issue(ca, {
    name: options.user,
    kind: 'client',
    ou: CLIENT_OU,
    usages: [OID_CLIENT_AUTH],
    altNames: [...hostNames, { type: 'url', value: clientUri(options.user) }],
    validity: options,
  });
}

interface LeafSpec {
  name: string;
  kind: IssuedCertificate['kind'];
  ou: string;
  usages: string[];
  altNames: x509.JsonGeneralName[];
  validity: Validity;
}

async function issue(ca: CertificateAuthority, spec: LeafSpec): Promise<IssuedCertificate> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const { notBefore, notAfter } = validity(spec.validity, DEFAULT_LEAF_DAYS);
  // A certificate outliving its CA would silently stop verifying early; say so now instead.
  if (notAfter > caCert.notAfter) {
    throw new SecurityError(
      'ERR_CERT_INVALID_INPUT',
      `${spec.kind} ${spec.name}: validity ends ${notAfter.toISOString()}, after the CA's (${caCert.notAfter.toISOString()})`,
    );
  }
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    x509.PemConverter.decodeFirst(ca.keyPem),
    KEY_ALGORITHM,
    false,
    ['sign'],
  );
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: new x509.Name([{ OU: [{ utf8String: spec.ou }] }, { CN: [{ utf8String: spec.name }] }]),
      // The CA's encoded name as is: re-encoding it could change bytes that chain building compares.
      issuer: caCert.subjectName,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: caKey as unknown as CryptoKey,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension(spec.usages, false),
        new x509.SubjectAlternativeNameExtension(spec.altNames, false),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        await authorityKeyIdentifier(caCert),
      ],
    },
    crypto,
  );
  return { name: spec.name, kind: spec.kind, certPem: cert.toString('pem'), keyPem: await exportKey(keys.privateKey) };
}

/**
 * Writes ca.pem and ca-key.pem (when `ca` is given) and <name>.pem / <name>-key.pem for each
 * certificate. Keys are mode 0600. Without `overwrite`, nothing is written if any target exists.
 * Returns the paths written.
 */
export async function writeCertificateSet(
  dir: string,
  set: { ca?: CertificateAuthority; certificates?: IssuedCertificate[] },
  options: { overwrite?: boolean } = {},
): Promise<string[]> {
  const files: { file: string; content: string; mode: number }[] = [];
  const add = (paths: { cert: string; key: string }, pair: { certPem: string; keyPem: string }) => {
    files.push(
      { file: paths.cert, content: pair.certPem, mode: 0o644 },
      { file: paths.key, content: pair.keyPem, mode: 0o600 },
    );
  };
  if (set.ca) add(caPaths(dir), set.ca);
  for (const cert of set.certificates ?? []) add(certificatePaths(dir, cert.name), cert);
  const unique = new Set(files.map((f) => f.file));
  if (unique.size !== files.length) {
    throw new SecurityError('ERR_CERT_INVALID_INPUT', 'two certificates in the set have the same name');
  }

  // The directory holds private keys, so a new one is private to its owner.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!options.overwrite) {
    // Check everything first so a refused write leaves no half-written set behind.
    const existing = (await Promise.all(files.map(async (f) => ((await exists(f.file)) ? f.file : null)))).filter(
      (f): f is string => f !== null,
    );
    if (existing.length > 0) {
      throw new SecurityError('ERR_CERT_EXISTS', `refusing to overwrite ${existing.join(', ')}`);
    }
  }
  for (const f of files) {
    if (options.overwrite) {
      // A temporary file created with the right mode, then renamed: an existing key file never
      // passes through a moment with new content under old, wider permissions.
      const tmp = path.join(dir, `.${path.basename(f.file)}.${randomBytes(6).toString('hex')}.tmp`);
      try {
        await writeNew(tmp, f.content, f.mode);
        await rename(tmp, f.file);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    } else {
      // 'wx' as well as the check above: a file that appeared meanwhile is still not clobbered.
      await writeNew(f.file, f.content, f.mode);
    }
  }
  return files.map((f) => f.file);
}

async function writeNew(file: string, content: string, mode: number): Promise<void> {
  let handle;
  try {
    handle = await open(file, 'wx', mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SecurityError('ERR_CERT_EXISTS', `refusing to overwrite ${file}`);
    }
    throw err;
  }
  try {
    // The umask may have narrowed the mode further; set it exactly.
    await handle.chmod(mode);
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

// Reuses the CA's own subject key identifier, so chain builders match the two byte for byte.
async function authorityKeyIdentifier(caCert: x509.X509Certificate): Promise<x509.Extension> {
  const keyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  if (keyId) return new x509.AuthorityKeyIdentifierExtension(keyId, false);
  return x509.AuthorityKeyIdentifierExtension.create(caCert, false, crypto);
}

// RFC 1123 labels, optionally a leading "*." wildcard; anything else would never match a hostname check.
const LABEL = '[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DNS_NAME = new RegExp(`^(\\*\\.)?${LABEL}(\\.${LABEL})*$`);

function hostName(owner: string, host: string): x509.JsonGeneralName {
  if (typeof host === 'string' && isIP(host)) return { type: 'ip', value: host };
  if (typeof host === 'string' && host.length <= 253 && DNS_NAME.test(host)) return { type: 'dns', value: host };
  throw new SecurityError(
    'ERR_CERT_INVALID_INPUT',
    `${owner}: ${JSON.stringify(host)} is neither an IP address nor a DNS name`,
  );
}

function validity(options: Validity, defaultDays: number): { notBefore: Date; notAfter: Date } {
  const days = options.days ?? defaultDays;
  if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0) {
    throw new SecurityError('ERR_CERT_INVALID_INPUT', `days must be a positive number, got ${String(days)}`);
  }
  const notBefore = options.notBefore ?? new Date(Date.now() - CLOCK_SKEW_MS);
  if (Number.isNaN(notBefore.getTime())) throw new SecurityError('ERR_CERT_INVALID_INPUT', 'notBefore is not a valid date');
  // X.509 times have whole-second precision; rounding here keeps what we return equal to what is encoded.
  const start = Math.floor(notBefore.getTime() / 1000) * 1000;
  return { notBefore: new Date(start), notAfter: new Date(start + Math.round(days * DAY_MS)) };
}

// 16 random bytes, first byte in 0x01..0x7f: a positive DER INTEGER with no padding byte (RFC 5280 §4.1.2.2).
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0] & 0x7f || 0x01;
  return bytes.toString('hex');
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key as unknown as webcrypto.CryptoKey);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}
