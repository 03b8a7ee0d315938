// `enoki certs`: brings a certificate directory up to date (CA, nodes, clients), issuing only what is missing.
import { X509Certificate } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import {
  createCa,
  issueClientCertificate,
  issueNodeCertificate,
  writeCertificateSet,
  type CertificateAuthority,
  type IssuedCertificate,
} from './certs.js';
import { SecurityError, assertCertificateName, caPaths, certificatePaths, type CertificatePaths } from './identity.js';
import { checkNodeCertificate, checkUser } from './policy.js';

export interface CertsCommandOptions {
  dir: string;
  nodes?: { id: string; hosts: string[] }[];
  /**
   * Users; `hosts` are the addresses the client connects from (IP SANs, which FReD's client API
   * checks). A bare name gets the loopback addresses, as FReD's own certificate script gives.
   */
  clients?: (string | { user: string; hosts: string[] })[];
  /** Common name of a CA created by this run. */
  caCommonName?: string;
  caDays?: number;
  /** Validity of certificates issued by this run. */
  days?: number;
  /** Injected so the expiry warnings are testable. */
  now?: Date;
}

const EXPIRY_WARNING_DAYS = 30;
export const DEFAULT_CLIENT_HOSTS = ['127.0.0.1', 'localhost'];

/**
 * Creates the CA if the directory has none and issues every listed certificate that is missing.
 * Existing files are never replaced; ones that are unusable as they stand (signed by another CA,
 * of the wrong kind, half a pair) stop the command before anything is written, and ones that are
 * merely stale (missing a requested host, expiring) are reported. Returns the summary to print.
 */
export async function runCertsCommand(options: CertsCommandOptions): Promise<string> {
  const { dir } = options;
  const nodes = options.nodes ?? [];
  const clients = (options.clients ?? []).map((c) => (typeof c === 'string' ? { user: c, hosts: DEFAULT_CLIENT_HOSTS } : c));
  const now = options.now ?? new Date();
  checkNames(nodes.map((n) => n.id), clients.map((c) => c.user));

  const lines: string[] = [];
  const toWrite: IssuedCertificate[] = [];
  const caFiles = caPaths(dir);
  let ca = await readPair(caFiles, 'CA');
  const createdCa = !ca;
  if (!ca) {
    ca = await createCa({ commonName: options.caCommonName ?? 'Enoki cluster CA', days: options.caDays });
    lines.push(`CA: created ${caFiles.cert} (${describe(ca.certPem)})`);
  } else {
    lines.push(`CA: using existing ${caFiles.cert} (${describe(ca.certPem)})`);
    lines.push(...expiryWarnings('CA', ca.certPem, now));
  }
  const caCert = new X509Certificate(ca.certPem);

  for (const node of nodes) {
    const label = `node ${node.id}`;
    const files = certificatePaths(dir, node.id);
    const existing = await readPair(files, label);
    if (!existing) {
      const cert = await issueNodeCertificate(ca, { nodeId: node.id, hosts: node.hosts, days: options.days });
      toWrite.push(cert);
      lines.push(`${label}: issued ${files.cert} (${describe(cert.certPem)})`);
      continue;
    }
    const x = checkExisting(label, files, existing.certPem, caCert, createdCa);
    const check = checkNodeCertificate(x);
    if (!check.ok || check.nodeId !== node.id) {
      throw new SecurityError('ERR_CERT_MISMATCH', `${files.cert} is not a node certificate for ${node.id}`);
    }
    lines.push(`${label}: kept existing ${files.cert} (${describe(existing.certPem)})`);
    const missing = node.hosts.filter((h) => !coversHost(x, h));
    if (missing.length > 0) {
      lines.push(
        `${label}: warning: existing certificate lacks ${missing.join(', ')}; remove ${files.cert} and ${files.key} to reissue`,
      );
    }
    lines.push(...expiryWarnings(label, existing.certPem, now));
  }

  for (const { user, hosts } of clients) {
    const label = `client ${user}`;
    const files = certificatePaths(dir, user);
    const existing = await readPair(files, label);
    if (!existing) {
      const cert = await issueClientCertificate(ca, { user, hosts, days: options.days });
      toWrite.push(cert);
      lines.push(`${label}: issued ${files.cert} (${describe(cert.certPem)})`);
      continue;
    }
    const x = checkExisting(label, files, existing.certPem, caCert, createdCa);
    const check = checkUser(x);
    if (!check.ok || check.kind !== 'client' || check.user !== user) {
      throw new SecurityError('ERR_CERT_MISMATCH', `${files.cert} is not a client certificate for ${user}`);
    }
    lines.push(`${label}: kept existing ${files.cert} (${describe(existing.certPem)})`);
    const missing = hosts.filter((h) => !coversHost(x, h));
    if (missing.length > 0) {
      lines.push(`${label}: warning: existing certificate lacks ${missing.join(', ')}; remove ${files.cert} and ${files.key} to reissue`);
    }
    lines.push(...expiryWarnings(label, existing.certPem, now));
  }

  // One write for everything new: it refuses as a whole if any target appeared meanwhile.
  await writeCertificateSet(dir, { ca: createdCa ? ca : undefined, certificates: toWrite });
  const created = toWrite.length + (createdCa ? 1 : 0);
  lines.push(
    created === 0
      ? 'Nothing to do: every certificate already exists.'
      : `Wrote ${created} certificate(s) to ${dir}; keys are mode 0600.`,
  );
  return lines.join('\n');
}

// Names become file names in one directory, so a node and a user may not share one.
function checkNames(nodeIds: string[], users: string[]): void {
  const seen = new Set<string>();
  for (const [what, name] of [...nodeIds.map((n) => ['node id', n]), ...users.map((u) => ['user', u])]) {
    assertCertificateName(what, name);
    if (seen.has(name)) {
      const why = 'node ids and users share one directory';
      throw new SecurityError('ERR_CERT_INVALID_INPUT', `${JSON.stringify(name)} is listed twice (${why})`);
    }
    seen.add(name);
  }
}

// Both files, neither, or an error: half a pair means someone removed a file by hand, and
// generating a new key beside an old certificate (or the reverse) would only hide that.
async function readPair(files: CertificatePaths, label: string): Promise<CertificateAuthority | undefined> {
  const [hasCert, hasKey] = await Promise.all([present(files.cert), present(files.key)]);
  if (!hasCert && !hasKey) return undefined;
  if (!hasCert || !hasKey) {
    const missing = hasCert ? files.key : files.cert;
    throw new SecurityError('ERR_CERT_MISSING', `${label}: ${missing} is missing but its pair exists; restore it or remove both`);
  }
  return { certPem: await readFile(files.cert, 'utf8'), keyPem: await readFile(files.key, 'utf8') };
}

function checkExisting(
  label: string,
  files: CertificatePaths,
  pem: string,
  caCert: X509Certificate,
  createdCa: boolean,
): X509Certificate {
  const x = new X509Certificate(pem);
  if (!x.checkIssued(caCert) || !x.verify(caCert.publicKey)) {
    const hint = createdCa ? ' (the CA was just created because ca.pem was absent)' : '';
    throw new SecurityError('ERR_CERT_MISMATCH', `${label}: ${files.cert} was not issued by this CA${hint}`);
  }
  return x;
}

function coversHost(cert: X509Certificate, host: string): boolean {
  return isIP(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined;
}

function expiryWarnings(label: string, pem: string, now: Date): string[] {
  const validTo = new Date(new X509Certificate(pem).validTo);
  if (validTo <= now) return [`${label}: warning: expired on ${validTo.toISOString()}`];
  const daysLeft = (validTo.getTime() - now.getTime()) / 86_400_000;
  return daysLeft < EXPIRY_WARNING_DAYS ? [`${label}: warning: expires in ${Math.floor(daysLeft)} day(s)`] : [];
}

function describe(pem: string): string {
  const x = new X509Certificate(pem);
  const sans = x.subjectAltName ? `, ${x.subjectAltName}` : '';
  return `${x.subject.replace(/\n/g, ', ')}${sans}, valid until ${new Date(x.validTo).toISOString().slice(0, 10)}`;
}

async function present(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
